import type { CronFieldError, DetailedValidation, ParsedFields } from '../types.js';
import { type CronFields, type ExpandedField, buildCronFields, neverInAnyMonth } from './cron-fields.js';
import { expandStandardAtoms } from './cron-parser-expansion.js';
import {
  DAY_OF_MONTH,
  FIELD_SPECS,
  type FieldSpec,
  MONTH,
  appendDisplayValues,
  lexField,
} from './field-syntax.js';
import { resolveNickname } from './names.js';
import { RecentCache } from './recent-cache.js';
import { WeakValueCache } from './weak-value-cache.js';

// Cron expressions with node-cron 4.6's syntax, verdicts and messages, except where node-cron accepts an
// expression only by an accident of its text rewriting. Those are rejected with node-cron's message for the field:
// - a range end outside the field (`60-0`, `75-30`, `0-70/50` minute, `32-1` day, `5-0`, `13-1` month, `8-7`
//   weekday), which node-cron's wrap-around arithmetic or stepping folds back into range;
// - a name glued to other text (`janfeb` = 12, `jan1` = 11, `sunmon` = 1) or used as a step (`*/feb` = every
//   second month): node-cron replaces every name by its number before reading the field;
// - digits before `*` (`5*` = 50-59, `1*` = 10-23 hours): node-cron substitutes the text `*` by the full range.
// And `constructor` is "expected 5 or 6 fields but got 1" here; node-cron, whose nickname table is a plain
// object, finds `Object` there and calls it "pattern includes illegal characters".

export type { CronFields } from './cron-fields.js';

const ALLOWED_CHARACTERS = /^[a-zA-Z0-9-*/,#? ]+$/;
// Field texts recur across patterns (`*`, `0`, `1-5`, …), so the last thousand or so seen spare most cron-parser
// calls, and apps that create and destroy tasks with per-user expressions all day keep no more than that.
const FIELD_GENERATION = 512;

type Analysis =
  | { readonly valid: false; readonly errors: readonly CronFieldError[] }
  | { readonly valid: true; readonly fields: readonly ExpandedField[]; readonly compiled: CronFields };

function invalid(errors: CronFieldError[]): Analysis {
  return { valid: false, errors };
}

/** node-cron's `parse()` result: each field's values in the order written, duplicates kept except in day of week. */
function parsedFields(fields: readonly ExpandedField[]): ParsedFields {
  const list = (field: number): (number | string)[] => {
    const values: (number | string)[] = [];
    const spec = FIELD_SPECS[field] as FieldSpec;
    for (const atom of fields[field]?.atoms ?? []) appendDisplayValues(values, atom, spec);
    return values;
  };
  // Only day of month and day of week have non-numeric atoms.
  const numbers = (field: number): number[] => list(field) as number[];
  return {
    second: numbers(0),
    minute: numbers(1),
    hour: numbers(2),
    dayOfMonth: list(3),
    month: numbers(4),
    dayOfWeek: [...new Set(list(5))],
  };
}

// Fields are cached by text: distinct patterns mostly reuse field texts, and a pattern whose fields have all
// been seen needs no cron-parser call. null: the field is invalid.
const fieldCache = new RecentCache<string, ExpandedField | null>(FIELD_GENERATION);

function expandedFields(texts: readonly string[]): (ExpandedField | null)[] {
  const keys = texts.map((text, i) => `${i} ${text}`);
  const cached = keys.map((key) => fieldCache.get(key));
  if (cached.every((field) => field !== undefined)) return cached;
  const lexed = texts.map((text, i) => (cached[i] === undefined ? lexField(text, FIELD_SPECS[i] as FieldSpec) : null));
  const expansion = expandStandardAtoms(lexed);
  return cached.map((field, i) => {
    if (field !== undefined) return field;
    const atoms = lexed[i] ?? null;
    const expanded = atoms === null || expansion.invalid[i] ? null : { atoms, values: expansion.values[i] ?? [] };
    fieldCache.set(keys[i] as string, expanded);
    return expanded;
  });
}

function analyse(pattern: string): Analysis {
  const resolved = resolveNickname(pattern);
  if (!ALLOWED_CHARACTERS.test(resolved)) {
    return invalid([{ field: 'expression', value: pattern, message: 'pattern includes illegal characters' }]);
  }
  const raw = resolved.replace(/\s{2,}/g, ' ').trim().split(' ');
  if (raw.length !== 5 && raw.length !== 6) {
    return invalid([{ field: 'expression', value: pattern, message: `expected 5 or 6 fields but got ${raw.length}` }]);
  }
  const texts = raw.length === 5 ? ['0', ...raw] : raw;
  const expanded = expandedFields(texts);
  const errors: CronFieldError[] = [];
  FIELD_SPECS.forEach((spec, i) => {
    const text = texts[i] ?? '';
    if (expanded[i] === null) {
      errors.push({ field: spec.key, value: text, message: `${text} is a invalid expression for ${spec.label}` });
    }
  });
  if (errors.length > 0) return invalid(errors);
  const fields = expanded as readonly ExpandedField[];
  const compiled = buildCronFields(fields);
  if (neverInAnyMonth(compiled)) {
    const dayOfMonth = texts[DAY_OF_MONTH] ?? '';
    return invalid([
      {
        field: 'dayOfMonth',
        value: dayOfMonth,
        message: `${dayOfMonth} ${texts[MONTH] ?? ''} is an impossible day of month for the given month`,
      },
    ]);
  }
  return { valid: true, fields, compiled };
}

// Tasks on one pattern share its compiled form (a few KB) while any of them lives; nothing stays once they are
// gone. Everything else is analysed again each time: with the fields cached, that takes microseconds.
const compiledByPattern = new WeakValueCache<string, CronFields>();

const NOT_A_STRING = 'pattern must be a string';

/**
 * node-cron 4.6's `validateDetailed`: the same verdict, errors and parsed fields, except that node-cron's
 * accidental acceptances are rejected (module comment above). Never throws; results are fresh objects.
 */
export function validateDetailed(pattern: unknown): DetailedValidation {
  if (typeof pattern !== 'string') return { valid: false, errors: [{ field: 'expression', message: NOT_A_STRING }] };
  const analysis = analyse(pattern);
  if (!analysis.valid) return { valid: false, errors: [...analysis.errors] };
  return { valid: true, errors: [], fields: parsedFields(analysis.fields) };
}

export function validate(pattern: unknown): boolean {
  if (typeof pattern !== 'string') return false;
  return compiledByPattern.get(pattern) !== undefined || analyse(pattern).valid;
}

function firstError(errors: readonly CronFieldError[]): Error {
  return new Error(errors[0]?.message);
}

/** node-cron's `parse`: the expanded fields, or throws the first validation error's message. */
export function parse(pattern: string): ParsedFields {
  const result = validateDetailed(pattern);
  if (result.fields === undefined) throw firstError(result.errors);
  return result.fields;
}

/** The compiled form of a valid expression (shared per pattern string); throws like `parse`. */
export function compileExpression(pattern: string): CronFields {
  if (typeof pattern !== 'string') throw new Error(NOT_A_STRING);
  const shared = compiledByPattern.get(pattern);
  if (shared !== undefined) return shared;
  const analysis = analyse(pattern);
  if (!analysis.valid) throw firstError(analysis.errors);
  compiledByPattern.set(pattern, analysis.compiled);
  return analysis.compiled;
}
