/**
 * The task mix of the scale bench, "realistic": 1 % every second (`* * * * * *`), the other 99 % every-minute-ish
 * jobs `S M * * * *` with the second S spread evenly over 0-59 and the minute field M cycling through
 * `*`, `*\/2`, `*\/5`, `*\/10`, `*\/15`, `*\/30`, `0-29`, `30-59` — 481 distinct expressions. Each task knows
 * which instants it fires at, so the bench can count missed and doubled fires without asking either library.
 */
const MINUTE_FIELDS = ['*', '*/2', '*/5', '*/10', '*/15', '*/30', '0-29', '30-59'] as const;

export const MIX_DESCRIPTION =
  '1 % `* * * * * *`, 99 % `S M * * * *` with S = 0-59 spread evenly and M cycling through ' +
  '`*`, `*/2`, `*/5`, `*/10`, `*/15`, `*/30`, `0-29`, `30-59` (481 distinct expressions)';

export interface TaskMix {
  expressions: string[];
  /** Whether task `index` fires at the whole second `ms` (in this process's time zone, as both libraries use). */
  firesAt(index: number, ms: number): boolean;
}

function minuteMatches(field: (typeof MINUTE_FIELDS)[number], minute: number): boolean {
  if (field === '*') return true;
  if (field.startsWith('*/')) return minute % Number(field.slice(2)) === 0;
  const [from, to] = field.split('-').map(Number) as [number, number];
  return minute >= from && minute <= to;
}

const everySecond = (index: number) => index % 100 === 0;
const secondOf = (index: number) => index % 60;
const minuteFieldOf = (index: number) => MINUTE_FIELDS[Math.floor(index / 60) % MINUTE_FIELDS.length]!;

export function taskMix(count: number): TaskMix {
  const expressions = Array.from({ length: count }, (_, i) =>
    everySecond(i) ? '* * * * * *' : `${secondOf(i)} ${minuteFieldOf(i)} * * * *`,
  );
  return {
    expressions,
    firesAt(index, ms) {
      if (everySecond(index)) return true;
      const date = new Date(ms);
      return date.getSeconds() === secondOf(index) && minuteMatches(minuteFieldOf(index), date.getMinutes());
    },
  };
}
