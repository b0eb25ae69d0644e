import type { ParsedFields } from '../types.js';
import { MONTH_NAMES, WEEKDAY_NAMES } from './names.js';

export interface FieldSpec {
  readonly key: keyof ParsedFields;
  /** How node-cron names the field in its error messages. */
  readonly label: string;
  readonly min: number;
  /** Last value of the field's cycle, where `*` and wrap-around ranges stop (6 for day of week; 7 is Sunday too). */
  readonly cycleMax: number;
  readonly names?: ReadonlyMap<string, number>;
}

export const SECOND = 0;
export const MINUTE = 1;
export const HOUR = 2;
export const DAY_OF_MONTH = 3;
export const MONTH = 4;
export const DAY_OF_WEEK = 5;

export const FIELD_SPECS: readonly FieldSpec[] = [
  { key: 'second', label: 'second', min: 0, cycleMax: 59 },
  { key: 'minute', label: 'minute', min: 0, cycleMax: 59 },
  { key: 'hour', label: 'hour', min: 0, cycleMax: 23 },
  { key: 'dayOfMonth', label: 'day of month', min: 1, cycleMax: 31 },
  { key: 'month', label: 'month', min: 1, cycleMax: 12, names: MONTH_NAMES },
  { key: 'dayOfWeek', label: 'week day', min: 0, cycleMax: 6, names: WEEKDAY_NAMES },
];

/** from, from + step, … while ≤ to. */
export interface Run {
  readonly from: number;
  readonly to: number;
  readonly step: number;
}

/** One comma-separated item of a field. */
export type Atom =
  /** Numbers, names, `*`, ranges and steps: validated and expanded by cron-parser from `source`. */
  | { readonly kind: 'standard'; readonly source: string; readonly runs: readonly Run[] }
  /** Day of month `L`. */
  | { readonly kind: 'last' }
  /** Day of month `L-n`: n days before the last. */
  | { readonly kind: 'lastOffset'; readonly offset: number; readonly text: string }
  /** Day of month `nW`: the weekday nearest to day n, within the month. */
  | { readonly kind: 'nearestWeekday'; readonly day: number; readonly text: string }
  /** Day of month `LW`: the last weekday of the month. */
  | { readonly kind: 'lastWeekday' }
  /** Day of week `<d>L`: the last such weekday of the month. */
  | { readonly kind: 'lastOfWeek'; readonly weekday: number }
  /** Day of week `<d>#n`: the n-th such weekday of the month. */
  | { readonly kind: 'nthOfWeek'; readonly weekday: number; readonly nth: number };

const DIGITS = /^\d+$/;
const RANGE = /^([a-z\d]+)(?:-([a-z\d]+)(?:\/(\d+))?)?$/i;
const EVERY = /^\*(?:\/(\d+))?$/;
const LAST_OFFSET = /^L-(\d{1,2})$/i;
const NEAREST_WEEKDAY = /^(\d{1,2})W$/i;
const WEEKDAY_LAST = /^([a-z]+|[0-7])L$/i;
const WEEKDAY_NTH = /^([a-z]+|[0-7])#([1-5])$/i;

interface Value {
  readonly value: number;
  /** How cron-parser should read it: the digits as written, or the three-letter name. */
  readonly source: string;
}

/** Names count only as a whole item or range end: node-cron's text replacement also reads `janfeb` as 12. */
function readValue(text: string, spec: FieldSpec): Value | undefined {
  if (DIGITS.test(text)) return { value: Number(text), source: text };
  const lower = text.toLowerCase();
  const value = spec.names?.get(lower);
  return value === undefined ? undefined : { value, source: lower.slice(0, 3) };
}

function readWeekday(text: string): number | undefined {
  const weekday = readValue(text, FIELD_SPECS[DAY_OF_WEEK] as FieldSpec)?.value;
  return weekday === undefined ? undefined : weekday % 7;
}

/**
 * `a-b` with a > b runs through the end of the cycle and on from its start (`22-2`, `sat-sun`), stepping
 * across the wrap as node-cron does. cron-parser only takes ascending ranges, so it gets the two halves.
 */
function wrapAround(from: number, to: number, stepText: string, spec: FieldSpec): Atom | null {
  if (from > spec.cycleMax || to < spec.min) return null;
  const step = Number(stepText);
  const runs: Run[] = [{ from, to: spec.cycleMax, step }];
  const lastBeforeWrap = from + Math.floor((spec.cycleMax - from) / step) * step;
  const firstAfterWrap = lastBeforeWrap + step - (spec.cycleMax - spec.min + 1);
  if (firstAfterWrap <= to) runs.push({ from: firstAfterWrap, to, step });
  // The step as written: a huge one would print in exponent notation, which cron-parser does not read.
  return { kind: 'standard', source: runs.map((r) => `${r.from}-${r.to}/${stepText}`).join(','), runs };
}

function standardAtom(token: string, spec: FieldSpec): Atom | null {
  const every = EVERY.exec(token);
  if (every !== null) {
    const step = every[1] === undefined ? 1 : Number(every[1]);
    return step < 1 ? null : { kind: 'standard', source: token, runs: [{ from: spec.min, to: spec.cycleMax, step }] };
  }
  const range = RANGE.exec(token);
  if (range === null) return null;
  const first = readValue(range[1] as string, spec);
  if (first === undefined) return null;
  if (range[2] === undefined) {
    return { kind: 'standard', source: first.source, runs: [{ from: first.value, to: first.value, step: 1 }] };
  }
  const second = readValue(range[2], spec);
  const stepText = range[3] ?? '1';
  const step = Number(stepText);
  if (second === undefined || step < 1) return null;
  let from = first.value;
  let to = second.value;
  let source = `${first.source}-${second.source}`;
  // Day of week 7 is Sunday: `7-2` runs Sunday to Tuesday, `7-7` is Sunday.
  if (spec.key === 'dayOfWeek' && from === 7) {
    from = 0;
    if (to === 7) to = 0;
    source = `0-${to}`;
  }
  if (from > to) return wrapAround(from, to, stepText, spec);
  if (range[3] !== undefined) source = `${source}/${range[3]}`;
  return { kind: 'standard', source, runs: [{ from, to, step }] };
}

function dayOfMonthAtom(token: string): Atom | null | undefined {
  if (token === 'L' || token === 'l') return { kind: 'last' };
  if (token.toUpperCase() === 'LW') return { kind: 'lastWeekday' };
  const offset = LAST_OFFSET.exec(token);
  if (offset !== null) {
    const n = Number(offset[1]);
    return n >= 1 && n <= 30 ? { kind: 'lastOffset', offset: n, text: token.toUpperCase() } : null;
  }
  const nearest = NEAREST_WEEKDAY.exec(token);
  if (nearest !== null) {
    const day = Number(nearest[1]);
    return day >= 1 && day <= 31 ? { kind: 'nearestWeekday', day, text: token.toUpperCase() } : null;
  }
  return undefined;
}

function dayOfWeekAtom(token: string): Atom | null | undefined {
  const last = WEEKDAY_LAST.exec(token);
  if (last !== null) {
    const weekday = readWeekday(last[1] as string);
    return weekday === undefined ? null : { kind: 'lastOfWeek', weekday };
  }
  const nth = WEEKDAY_NTH.exec(token);
  if (nth !== null) {
    const weekday = readWeekday(nth[1] as string);
    return weekday === undefined ? null : { kind: 'nthOfWeek', weekday, nth: Number(nth[2]) };
  }
  return undefined;
}

function atom(token: string, spec: FieldSpec): Atom | null {
  const special =
    spec.key === 'dayOfMonth' ? dayOfMonthAtom(token) : spec.key === 'dayOfWeek' ? dayOfWeekAtom(token) : undefined;
  return special === undefined ? standardAtom(token, spec) : special;
}

/**
 * Splits one field into atoms, or null when node-cron's syntax rejects it. Numeric bounds of standard atoms are
 * left to cron-parser; only wrap-around ranges, which cron-parser cannot take, are bounded here.
 */
export function lexField(text: string, spec: FieldSpec): Atom[] | null {
  // `?` is `*`, in the day fields and only as the whole field.
  const field = text === '?' && (spec.key === 'dayOfMonth' || spec.key === 'dayOfWeek') ? '*' : text;
  const atoms: Atom[] = [];
  for (const token of field.split(',')) {
    const parsed = atom(token, spec);
    if (parsed === null) return null;
    atoms.push(parsed);
  }
  return atoms;
}

/** Appends the values node-cron's `parse()` lists for an atom (day of week 7 shown as 0). */
export function appendDisplayValues(values: (number | string)[], atom: Atom, spec: FieldSpec): void {
  switch (atom.kind) {
    case 'standard': {
      const cycle = spec.key === 'dayOfWeek' ? 7 : Number.POSITIVE_INFINITY;
      for (const run of atom.runs) for (let v = run.from; v <= run.to; v += run.step) values.push(v % cycle);
      return;
    }
    case 'last':
      values.push('L');
      return;
    case 'lastWeekday':
      values.push('LW');
      return;
    case 'lastOffset':
    case 'nearestWeekday':
      values.push(atom.text);
      return;
    case 'lastOfWeek':
      values.push(`${atom.weekday}L`);
      return;
    case 'nthOfWeek':
      values.push(`${atom.weekday}#${atom.nth}`);
  }
}
