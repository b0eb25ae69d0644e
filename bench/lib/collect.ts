import { LIBRARIES, type LibraryName } from './libraries.js';

/** Appends `value` to the list kept under `key`: results of repeated runs, grouped by what they measure. */
export function collect<T>(into: Map<string, T[]>, key: string, value: T): void {
  const list = into.get(key);
  if (list) list.push(value);
  else into.set(key, [value]);
}

/**
 * Measures each case with each library, `runs` times over, run after run (so that a drift of the machine touches
 * every case alike), and returns the results of a case and library, one per run. The libraries take turns, or run
 * at the same time with `sideBySide` (each measurement in its own process).
 */
export async function measureEach<C, R>(
  runs: number,
  cases: readonly C[],
  measure: (item: C, library: LibraryName) => Promise<R>,
  { sideBySide = false } = {},
): Promise<(item: C, library: LibraryName) => R[]> {
  const results = new Map(cases.map((item) => [item, new Map(LIBRARIES.map((library) => [library, [] as R[]]))]));
  const one = async (item: C, library: LibraryName) => results.get(item)!.get(library)!.push(await measure(item, library));
  for (let run = 0; run < runs; run++) {
    for (const item of cases) {
      if (sideBySide) await Promise.all(LIBRARIES.map((library) => one(item, library)));
      else for (const library of LIBRARIES) await one(item, library);
    }
  }
  return (item, library) => results.get(item)?.get(library) ?? [];
}
