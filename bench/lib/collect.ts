/** Appends `value` to the list kept under `key`: results of repeated runs, grouped by what they measure. */
export function collect<T>(into: Map<string, T[]>, key: string, value: T): void {
  const list = into.get(key);
  if (list) list.push(value);
  else into.set(key, [value]);
}
