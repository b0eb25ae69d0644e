import { CronExpressionParser } from 'cron-parser';
import { type Atom, DAY_OF_MONTH, DAY_OF_WEEK, MONTH, type Run } from './field-syntax.js';

type StandardAtom = Extract<Atom, { kind: 'standard' }>;

export interface Expansion {
  /** Per field: the sorted, distinct values of its standard atoms as cron-parser expands them (weekday 7 as 0). */
  readonly values: readonly (readonly number[])[];
  /** Per field: cron-parser rejected one of its standard atoms. */
  readonly invalid: readonly boolean[];
}

// cron-parser rejects a field that lists a value twice, a field over 256 values and an expression over 1024
// characters; node-cron accepts all three (`1-10,5-15`, `0,7` in day of week). So each field's atoms are packed
// into groups of disjoint values and bounded length, and the groups go through cron-parser in rounds.
const MAX_GROUP_LENGTH = 150;

/** Values 0-63 as two 32-bit words. */
interface Mask {
  low: number;
  high: number;
}

interface Group {
  readonly sources: string[];
  readonly taken: Mask;
  length: number;
}

function addRun(mask: Mask, run: Run, field: number): void {
  for (let v = run.from; v <= Math.min(run.to, 63); v += run.step) {
    if (v < 32) mask.low |= 1 << v;
    else mask.high |= 1 << (v - 32);
  }
  // cron-parser reads weekday 7 as 0, and adds 0 to a range reaching 7.
  if (field === DAY_OF_WEEK && (mask.low & 0x80) !== 0) mask.low |= 1;
}

function pack(atoms: readonly StandardAtom[], field: number): string[] {
  const groups: Group[] = [];
  for (const atom of atoms) {
    const mask: Mask = { low: 0, high: 0 };
    for (const run of atom.runs) addRun(mask, run, field);
    let group = groups.find(
      (g) =>
        (g.taken.low & mask.low) === 0 &&
        (g.taken.high & mask.high) === 0 &&
        g.length + atom.source.length < MAX_GROUP_LENGTH,
    );
    if (group === undefined) {
      group = { sources: [], taken: { low: 0, high: 0 }, length: 0 };
      groups.push(group);
    }
    group.sources.push(atom.source);
    group.taken.low |= mask.low;
    group.taken.high |= mask.high;
    group.length += atom.source.length + 1;
  }
  return groups.map((g) => g.sources.join(','));
}

const FIELD_NAMES = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'] as const;
// Stand-ins for fields not being expanded: single values are cheapest for cron-parser, January keeps every day
// of month, and a day of week other than `*` spares the day-of-month check cron-parser makes.
const PLACEHOLDERS = ['0', '0', '0', '1', '1', '0'] as const;

/** One cron-parser call; fields without a source get a placeholder and their values are not read. */
function parseRound(sources: readonly (string | undefined)[]): (readonly (number | string)[] | undefined)[] {
  const fields = CronExpressionParser.parse(sources.map((s, i) => s ?? PLACEHOLDERS[i]).join(' ')).fields;
  return FIELD_NAMES.map((name, field) => (sources[field] === undefined ? undefined : fields[name].values));
}

/** When a round fails, parse each of its fields alone to learn which are invalid. */
function parseFieldByField(
  sources: readonly (string | undefined)[],
  invalid: boolean[],
): (readonly (number | string)[] | undefined)[] {
  return sources.map((source, field) => {
    if (source === undefined) return undefined;
    try {
      return parseRound(sources.map((s, i) => (i === field ? s : undefined)))[field];
    } catch {
      invalid[field] = true;
      return undefined;
    }
  });
}

/**
 * Validates and expands the standard atoms of the lexed fields (null = skipped) with cron-parser, each field
 * independently of the others: one call in the common case, more for a day of month together with a month,
 * overlapping atoms or very long fields.
 */
export function expandStandardAtoms(fields: readonly (readonly Atom[] | null)[]): Expansion {
  const groups: (string | undefined)[][] = fields.map((atoms, field) =>
    pack((atoms ?? []).filter((a): a is StandardAtom => a.kind === 'standard'), field),
  );
  // With a single month in an expression, cron-parser drops the days of month that month lacks. Each field's
  // values must not depend on the others (they are cached per field), so day of month and month never share a
  // round.
  const monthGroups = groups[MONTH]?.length ?? 0;
  if ((groups[DAY_OF_MONTH]?.length ?? 0) > 0 && monthGroups > 0) {
    groups[DAY_OF_MONTH] = [...new Array<undefined>(monthGroups), ...(groups[DAY_OF_MONTH] ?? [])];
  }

  const taken = fields.map(() => new Uint8Array(64));
  const invalid = fields.map(() => false);
  const rounds = Math.max(...groups.map((g) => g.length));
  for (let round = 0; round < rounds; round++) {
    const sources = groups.map((g) => g[round]);
    let expanded: (readonly (number | string)[] | undefined)[];
    try {
      expanded = parseRound(sources);
    } catch {
      // An invalid atom, or cron-parser's own day-of-month check (which node-cron does not make).
      expanded = parseFieldByField(sources, invalid);
    }
    expanded.forEach((list, field) => {
      const fieldTaken = taken[field] as Uint8Array;
      for (const v of list ?? []) if (typeof v === 'number') fieldTaken[field === DAY_OF_WEEK ? v % 7 : v] = 1;
    });
  }
  const values = taken.map((fieldTaken) => {
    const list: number[] = [];
    fieldTaken.forEach((isTaken, v) => {
      if (isTaken === 1) list.push(v);
    });
    return list;
  });
  return { values, invalid };
}
