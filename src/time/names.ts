const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Full and three-letter names (lower case) to numbers; a short name is the first three letters of its full name. */
function nameTable(names: readonly string[], first: number): ReadonlyMap<string, number> {
  const table = new Map<string, number>();
  names.forEach((name, i) => {
    table.set(name, first + i);
    table.set(name.slice(0, 3), first + i);
  });
  return table;
}

export const MONTH_NAMES = nameTable(MONTHS, 1);
export const WEEKDAY_NAMES = nameTable(WEEKDAYS, 0);

const NICKNAMES: ReadonlyMap<string, string> = new Map([
  ['@yearly', '0 0 1 1 *'],
  ['@annually', '0 0 1 1 *'],
  ['@monthly', '0 0 1 * *'],
  ['@weekly', '0 0 * * 0'],
  ['@daily', '0 0 * * *'],
  ['@midnight', '0 0 * * *'],
  ['@hourly', '0 * * * *'],
]);

/** node-cron 4.6 nicknames, matched after trimming and case-insensitively; anything else is returned as is. */
export function resolveNickname(pattern: string): string {
  return NICKNAMES.get(pattern.trim().toLowerCase()) ?? pattern;
}
