import { daysInMonth } from './calendar.js';
import { type Atom, DAY_OF_MONTH, DAY_OF_WEEK, HOUR, MINUTE, MONTH, SECOND } from './field-syntax.js';

/** Second, minute or hour. */
export interface TimeField {
  /** Allowed values, ascending. */
  readonly values: readonly number[];
  /** `next[v]`: the smallest allowed value ≥ v, or -1; one slot past the field's last value. */
  readonly next: Int8Array;
}

export interface DayOfMonthRules {
  /** Every day is allowed (a plain list covering 1-31, `*`, `?`). */
  readonly everyDay: boolean;
  /** Bit d - 1: plain day d. */
  readonly days: number;
  /** `L` */
  readonly last: boolean;
  /** `L-n` */
  readonly lastOffsets: readonly number[];
  /** `nW` */
  readonly nearestWeekdays: readonly number[];
  /** `LW` */
  readonly lastWeekday: boolean;
}

export interface DayOfWeekRules {
  readonly everyDay: boolean;
  /** Bit w (0 = Sunday): plain weekday w. */
  readonly days: number;
  /** Bit w: `<w>L`, the last such weekday of the month. */
  readonly last: number;
  /** `nth[w]` bit n - 1: `<w>#n`. */
  readonly nth: readonly number[];
}

/** A compiled cron expression, for matching wall-clock times. Day of month and day of week must both match. */
export interface CronFields {
  readonly second: TimeField;
  readonly minute: TimeField;
  readonly hour: TimeField;
  /** Bit m: month m (1-12). */
  readonly months: number;
  readonly dayOfMonth: DayOfMonthRules;
  readonly dayOfWeek: DayOfWeekRules;
}

function timeField(values: readonly number[], last: number): TimeField {
  const next = new Int8Array(last + 2).fill(-1);
  for (const v of values) next[v] = v;
  for (let v = last - 1; v >= 0; v--) if (next[v] === -1) next[v] = next[v + 1] ?? -1;
  return { values, next };
}

function bits(values: readonly number[], offset = 0): number {
  let mask = 0;
  for (const v of values) mask |= 1 << (v - offset);
  return mask;
}

function dayOfMonthRules(atoms: readonly Atom[], plainDays: readonly number[]): DayOfMonthRules {
  const days = bits(plainDays, 1);
  return {
    everyDay: days === 0x7fffffff,
    days,
    last: atoms.some((a) => a.kind === 'last'),
    lastOffsets: atoms.flatMap((a) => (a.kind === 'lastOffset' ? [a.offset] : [])),
    nearestWeekdays: atoms.flatMap((a) => (a.kind === 'nearestWeekday' ? [a.day] : [])),
    lastWeekday: atoms.some((a) => a.kind === 'lastWeekday'),
  };
}

function dayOfWeekRules(atoms: readonly Atom[], plainWeekdays: readonly number[]): DayOfWeekRules {
  const days = bits(plainWeekdays);
  const nth = [0, 0, 0, 0, 0, 0, 0];
  let last = 0;
  for (const atom of atoms) {
    if (atom.kind === 'lastOfWeek') last |= 1 << atom.weekday;
    if (atom.kind === 'nthOfWeek') nth[atom.weekday] = (nth[atom.weekday] ?? 0) | (1 << (atom.nth - 1));
  }
  return { everyDay: days === 0x7f, days, last, nth };
}

/** A valid field: its atoms, and the values of its standard atoms as cron-parser expands them. */
export interface ExpandedField {
  readonly atoms: readonly Atom[];
  readonly values: readonly number[];
}

/** Builds the compiled form from the six valid fields. */
export function buildCronFields(fields: readonly ExpandedField[]): CronFields {
  const values = (field: number): readonly number[] => fields[field]?.values ?? [];
  const atoms = (field: number): readonly Atom[] => fields[field]?.atoms ?? [];
  return {
    second: timeField(values(SECOND), 59),
    minute: timeField(values(MINUTE), 59),
    hour: timeField(values(HOUR), 23),
    months: bits(values(MONTH)),
    dayOfMonth: dayOfMonthRules(atoms(DAY_OF_MONTH), values(DAY_OF_MONTH)),
    dayOfWeek: dayOfWeekRules(atoms(DAY_OF_WEEK), values(DAY_OF_WEEK)),
  };
}

export function monthMatches(fields: CronFields, month: number): boolean {
  return ((fields.months >> month) & 1) === 1;
}

/** Quartz's nearest weekday to `target`, never leaving the month; -1 when the month has no such day. */
function nearestWeekday(target: number, lastDay: number, day: number, weekday: number): number {
  if (target > lastDay) return -1;
  const targetWeekday = (((weekday + target - day) % 7) + 7) % 7;
  if (targetWeekday === 6) return target === 1 ? target + 2 : target - 1;
  if (targetWeekday === 0) return target === lastDay ? target - 2 : target + 1;
  return target;
}

function dayOfMonthMatches(rules: DayOfMonthRules, day: number, weekday: number, lastDay: number): boolean {
  if (rules.everyDay || ((rules.days >>> (day - 1)) & 1) === 1) return true;
  if (rules.last && day === lastDay) return true;
  if (rules.lastOffsets.some((n) => lastDay - n === day)) return true;
  if (rules.nearestWeekdays.some((target) => nearestWeekday(target, lastDay, day, weekday) === day)) return true;
  return rules.lastWeekday && nearestWeekday(lastDay, lastDay, day, weekday) === day;
}

function dayOfWeekMatches(rules: DayOfWeekRules, day: number, weekday: number, lastDay: number): boolean {
  if (rules.everyDay || ((rules.days >> weekday) & 1) === 1) return true;
  if (((rules.last >> weekday) & 1) === 1 && day + 7 > lastDay) return true;
  return (((rules.nth[weekday] ?? 0) >> Math.floor((day - 1) / 7)) & 1) === 1;
}

/** Day of month and day of week both match (node-cron's AND, not Vixie cron's OR). Month is checked apart. */
export function dayMatches(fields: CronFields, year: number, month: number, day: number, weekday: number): boolean {
  const lastDay = daysInMonth(year, month);
  return (
    dayOfMonthMatches(fields.dayOfMonth, day, weekday, lastDay) &&
    dayOfWeekMatches(fields.dayOfWeek, day, weekday, lastDay)
  );
}

/** The first allowed second of the day at or after `secondOfDay`, or -1. */
export function firstTimeFrom(fields: CronFields, secondOfDay: number): number {
  const { hour, minute, second } = fields;
  const h = Math.floor(secondOfDay / 3600);
  const m = Math.floor(secondOfDay / 60) % 60;
  const s = secondOfDay % 60;
  const firstSecond = second.values[0] ?? 0;
  const firstMinute = minute.values[0] ?? 0;
  if (hour.next[h] === h) {
    if (minute.next[m] === m) {
      const nextSecond = second.next[s] ?? -1;
      if (nextSecond >= 0) return h * 3600 + m * 60 + nextSecond;
    }
    // When minute m is not allowed, next[m + 1] is next[m].
    const nextMinute = minute.next[m + 1] ?? -1;
    if (nextMinute >= 0) return h * 3600 + nextMinute * 60 + firstSecond;
  }
  const nextHour = hour.next[h + 1] ?? -1;
  return nextHour < 0 ? -1 : nextHour * 3600 + firstMinute * 60 + firstSecond;
}

/** The plain-day bitmask when day of month is only a restricting list of days, else 0 (no shortcut). */
export function plainDaysOfMonth(fields: CronFields): number {
  const rules = fields.dayOfMonth;
  return rules.everyDay || hasSpecialDays(rules) ? 0 : rules.days;
}

/** The first day ≥ `day` in a plain-day bitmask, or 0. */
export function firstDayFrom(days: number, day: number): number {
  const rest = days >>> (day - 1);
  return rest === 0 ? 0 : day + 31 - Math.clz32(rest & -rest);
}

function hasSpecialDays(rules: DayOfMonthRules): boolean {
  return rules.last || rules.lastWeekday || rules.lastOffsets.length > 0 || rules.nearestWeekdays.length > 0;
}

/** node-cron's "impossible day of month": plain days only, none of which any allowed month has. */
export function neverInAnyMonth(fields: CronFields): boolean {
  const rules = fields.dayOfMonth;
  if (hasSpecialDays(rules)) return false;
  let longest = 0;
  for (let month = 1; month <= 12; month++) {
    // 2000 is a leap year: February 29 is possible.
    if (monthMatches(fields, month)) longest = Math.max(longest, daysInMonth(2000, month));
  }
  return (rules.days & (2 ** longest - 1)) === 0;
}
