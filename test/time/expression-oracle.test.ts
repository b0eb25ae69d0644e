import fc from 'fast-check';
import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import type { DetailedValidation } from '../../src/types.js';
import { parse, validate, validateDetailed } from '../../src/time/expression.js';
import { MONTH_NAMES, WEEKDAY_NAMES } from '../../src/time/names.js';

/**
 * fleetcron's validation against node-cron 4.6's, which is the reference except where node-cron accepts an
 * expression only by accident of its text rewriting. Those deviations are listed in DEVIATIONS; the random
 * comparison tolerates exactly them (isDeviation) and nothing else.
 */

const BOUNDS: readonly (readonly [number, number])[] = [
  [0, 59],
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const LABELS = ['second', 'minute', 'hour', 'day of month', 'month', 'week day'];
const KEYS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'];
function nameValue(text: string, field: number): number | undefined {
  return (field === 4 ? MONTH_NAMES : field === 5 ? WEEKDAY_NAMES : undefined)?.get(text.toLowerCase());
}

function value(text: string, field: number): number | undefined {
  return /^\d+$/.test(text) ? Number(text) : nameValue(text, field);
}

/** Whether node-cron accepts this item of field `field` only by accident (see src/time/expression.ts). */
function isDeviationItem(item: string, field: number): boolean {
  // `5*`: node-cron substitutes `*` by `0-59` in the text, giving `50-59`.
  if (/\d\*/.test(item)) return true;
  // A name as a step (`*/feb`) or glued to other text (`janfeb`, `jan1`): node-cron replaces names by numbers.
  if (/\/[a-z]/i.test(item)) return true;
  if (field === 4 || field === 5) {
    // Weekday names may carry the `L` suffix (`fril`).
    const isName = (part: string): boolean =>
      nameValue(part, field) !== undefined ||
      (field === 5 && /l$/i.test(part) && nameValue(part.slice(0, -1), field) !== undefined);
    if (item.split(/[-/#]/).some((part) => /[a-z]/i.test(part) && !isName(part))) return true;
  }
  // A range with an end outside the field, which node-cron's wrap-around arithmetic or step folds back in.
  const range = /^([a-z\d]+)-([a-z\d]+)(?:\/\d+)?$/i.exec(item);
  if (range !== null) {
    const [min, max] = BOUNDS[field] ?? [0, 0];
    const ends = [value(range[1] ?? '', field), value(range[2] ?? '', field)];
    if (ends.every((e) => e !== undefined) && ends.some((e) => (e as number) < min || (e as number) > max)) return true;
  }
  return false;
}

function isDeviationField(text: string, field: number): boolean {
  return text.split(',').some((item) => isDeviationItem(item, field));
}

/** Compares with node-cron, tolerating only documented deviations: fields node-cron wrongly accepts. */
function expectLikeNodeCron(pattern: unknown): void {
  const ours = validateDetailed(pattern);
  const theirs = cron.validateDetailed(pattern as string) as DetailedValidation;
  if (JSON.stringify(ours) === JSON.stringify(theirs)) return;
  const context = [pattern, ours, theirs].map((x) => JSON.stringify(x)).join('\n');
  expect(ours.valid, context).toBe(false);
  if (pattern === 'constructor') return;
  const theirsImpossible = theirs.errors.some((e) => e.message.includes('impossible'));
  const extra = ours.errors.filter((e) => !theirs.errors.some((t) => JSON.stringify(t) === JSON.stringify(e)));
  if (!theirsImpossible) expect(ours.errors.length - extra.length, context).toBe(theirs.errors.length);
  expect(extra.length, context).toBeGreaterThan(0);
  for (const error of extra) {
    const field = KEYS.indexOf(error.field);
    expect(field >= 0 && isDeviationField(error.value ?? '', field), context).toBe(true);
    expect(error.message, context).toBe(`${error.value} is a invalid expression for ${LABELS[field]}`);
  }
}

const SIXTY = Array.from({ length: 60 }, (_, i) => i).join(',');

const AGREED = [
  // plain, steps, lists, ranges, wrap-around ranges
  '* * * * *',
  '* * * * * *',
  '0 0 * * *',
  '*/5 * * * *',
  '*/100 * * * *',
  '*/007 * * * *',
  '*/99999999999999999999999 * * * *',
  '0 22-2/1000000000000000000000 * * *',
  '007 * * * *',
  '1-10/3 * * * *',
  '0 22-2 * * *',
  '0 22-2/2 * * *',
  '50-10/15 * * * *',
  '0 0 * * */2',
  '0 0 * */3 *',
  '59 23 31 12 *',
  '1,1,2 * * * *',
  '0,0 * * * * *',
  `${SIXTY} * * * * *`,
  '1-10,5-15 * * * *',
  '*,* * * * *',
  '  0   0  *  * *  ',
  // names
  '0 0 * * sat-sun',
  '0 0 * * SUN-SAT',
  '0 0 * dec-feb *',
  '0 0 * jan-mar,oct *',
  '0 0 * JANUARY,february *',
  '0 0 * * monday-friday',
  '0 0 * jan-dec/2 *',
  '0 0 * * fri-mon',
  // day of month specials
  '0 0 L * *',
  '0 0 l * *',
  '0 0 L-3 * *',
  '0 0 l-30 * *',
  '0 0 L-05 * *',
  '0 0 15W * *',
  '0 0 1w * *',
  '0 0 05W * *',
  '0 0 LW * *',
  '0 0 lw * *',
  '0 0 1,15,L,LW * *',
  // day of week specials and Sunday as 7
  '0 0 * * 5L',
  '0 0 * * fril',
  '0 0 * * 1#2',
  '0 0 * * mon#1',
  '0 0 * * 7#5',
  '0 0 * * 7L',
  '0 0 * * 0,7',
  '0 0 * * 7,1',
  '0 0 * * 7',
  '0 0 * * 5-7',
  '0 0 * * 5-7,0',
  '0 0 * * 7-2',
  '0 0 * * 7-7',
  '0 0 * * 1-7/3',
  '0 0 * * 1-5,1#1,5L',
  // ?, AND of day of month and day of week
  '0 0 ? * 1',
  '0 0 1 * ?',
  '0 0 12 1 * 1',
  // possible and impossible days
  '0 0 29 2 *',
  '0 0 30 1,2 *',
  '0 0 31 2,3 *',
  '0 0 L,31 2 *',
  '0 0 1,30 2 *',
  '0 0 1,30 2,2-3 *',
  '0 0 1,30 * *',
  '0 0 31 2 *',
  '0 0 30 2 *',
  '0 0 31 4,6,9,11 *',
  '0 0 31 feb *',
  // nicknames
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  ' @Hourly ',
  '@reboot',
  // shape and characters
  '',
  ' ',
  'x',
  '* * * *',
  '1 2 3 4 5 6 7',
  '1 2 3 4 5 6 7 8',
  '* * * * *\t',
  '* * * * * $',
  '* * * * * 1;',
  // out of range and malformed items
  '60 * * * *',
  '* 24 * * *',
  '* * 0 * *',
  '* * 32 * *',
  '* * * 13 *',
  '* * * 0 *',
  '* * * * 8',
  '70-2 * * * *',
  '0-70 * * * *',
  '99999999999999999999 * * * *',
  '5/15 * * * *',
  '*/0 * * * *',
  '1-5/0 * * * *',
  '1,,2 * * * *',
  '1, * * * *',
  '-1 * * * *',
  '1-2-3 * * * *',
  '** * * * *',
  '*/ * * * *',
  '*5 * * * *',
  '? * * * *',
  '* ? * * *',
  '0 0 ?,1 * *',
  '0 0 * ? *',
  '* * * foo *',
  '* * * * funday',
  '* * * * jan',
  '* * * mon *',
  '0 0 L * L',
  '0 0 * * L',
  '0 0 * * LW',
  '0 0 L-0 * *',
  '0 0 L-31 * *',
  '0 0 L-123 * *',
  '0 0 0W * *',
  '0 0 32W * *',
  '0 0 123W * *',
  '0 0 W * *',
  '0 0 1-5W * *',
  '0 0 5L * *',
  '0 0 * * 1#6',
  '0 0 * * 1#0',
  '0 0 * * 8#1',
  '0 0 * * 8L',
  '0 0 * * 01#1',
  '0 0 * * 1#2,1-2#1',
  '5 L * * *',
  '60 60 24 32 13 8',
  'a b c d e',
];

const DEVIATIONS: readonly (readonly [pattern: string, field: string])[] = [
  ['60-0 * * * *', 'minute'],
  ['75-30 * * * *', 'minute'],
  ['0-70/50 * * * *', 'minute'],
  ['0 0 32-1 * *', 'dayOfMonth'],
  ['0 0 1 5-0 *', 'month'],
  ['0 0 1 13-1 *', 'month'],
  ['0 0 * * 8-7', 'dayOfWeek'],
  ['0 0 * janfeb *', 'month'],
  ['0 0 * jan1 *', 'month'],
  ['0 0 * 1jan *', 'month'],
  ['0 0 * * sunmon', 'dayOfWeek'],
  ['0 0 * */feb *', 'month'],
  ['0 0 * * */mon', 'dayOfWeek'],
  ['5* * * * *', 'minute'],
  ['0 1* * * *', 'hour'],
  ['0 0 2* * *', 'dayOfMonth'],
  ['0 0 * 1* *', 'month'],
  ['0 0 * * 1*', 'dayOfWeek'],
];

describe('validateDetailed against node-cron 4.6', () => {
  it.each(AGREED.map((p) => [p]))('%j: same verdict, errors and fields', (pattern) => {
    expect(validateDetailed(pattern)).toEqual(cron.validateDetailed(pattern));
  });

  it.each([[5], [null], [undefined], [{}], [['* * * * *']]])('%j: not a string', (pattern) => {
    expect(validateDetailed(pattern)).toEqual(cron.validateDetailed(pattern as string));
  });

  it.each(DEVIATIONS)('%j: node-cron accepts it by accident; rejected (%s)', (pattern, field) => {
    expect(cron.validateDetailed(pattern).valid).toBe(true);
    const ours = validateDetailed(pattern);
    const index = KEYS.indexOf(field);
    const texts = pattern.trim().split(/\s+/);
    const text = texts[texts.length === 5 ? index - 1 : index];
    expect(ours).toEqual({
      valid: false,
      errors: [{ field, value: text, message: `${text} is a invalid expression for ${LABELS[index]}` }],
    });
    expectLikeNodeCron(pattern);
  });

  it('"constructor": both reject; node-cron calls it illegal characters (its nickname table is a plain object)', () => {
    expect(cron.validateDetailed('constructor').errors[0]?.message).toBe('pattern includes illegal characters');
    expect(validateDetailed('constructor').errors[0]?.message).toBe('expected 5 or 6 fields but got 1');
  });

  it('agrees on random expressions from a cron grammar, but for the documented deviations', () => {
    fc.assert(
      fc.property(expressionArbitrary(), (pattern) => {
        expectLikeNodeCron(pattern);
      }),
      { numRuns: 4000 },
    );
  });
});

describe('parse and validate', () => {
  it('parse returns node-cron’s fields and throws the first error', () => {
    expect(parse('0 22-2/2 * * sat-sun')).toEqual(cron.parse('0 22-2/2 * * sat-sun'));
    expect(() => parse('60 60 * * *')).toThrow(new Error('60 is a invalid expression for minute'));
    expect(() => parse('* * *')).toThrow(new Error('expected 5 or 6 fields but got 3'));
    expect(() => parse('0 0 31 2 *')).toThrow(new Error('31 2 is an impossible day of month for the given month'));
    expect(() => parse(7 as unknown as string)).toThrow(new Error('pattern must be a string'));
  });

  it('validate is the verdict of validateDetailed', () => {
    for (const pattern of [...AGREED, 5, null]) {
      expect(validate(pattern), JSON.stringify(pattern)).toBe(cron.validate(pattern as string));
    }
  });

  it('returns fresh objects: mutating a result does not change the next one', () => {
    const first = validateDetailed('0 0 * * 1-5');
    first.fields?.dayOfWeek.push(6);
    first.errors.push({ field: 'x', message: 'y' });
    expect(validateDetailed('0 0 * * 1-5')).toEqual(cron.validateDetailed('0 0 * * 1-5'));
    const invalid = validateDetailed('x');
    invalid.errors.length = 0;
    expect(validateDetailed('x').errors).toHaveLength(1);
  });
});

// ---- a random cron grammar: fields well-formed, or now and then ("dirty") with the usual mistakes ----

function numberText(field: number, dirty: boolean): fc.Arbitrary<string> {
  const [min, max] = BOUNDS[field] ?? [0, 0];
  const number = dirty
    ? fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min, max }) },
        { weight: 1, arbitrary: fc.constantFrom(Math.max(0, min - 1), max + 1, max + 13, 100) },
      )
    : fc.integer({ min, max });
  return number.chain((n) =>
    fc.oneof(
      { weight: 5, arbitrary: fc.constant(String(n)) },
      { weight: 1, arbitrary: fc.constant(String(n).padStart(3, '0')) },
    ),
  );
}

function nameText(field: number): fc.Arbitrary<string> {
  // Full and three-letter names alike.
  const names = [...(field === 4 ? MONTH_NAMES : WEEKDAY_NAMES).keys()];
  return fc.tuple(fc.constantFrom(...names), fc.constantFrom('lower', 'upper', 'title')).map(([text, casing]) => {
    if (casing === 'upper') return text.toUpperCase();
    return casing === 'title' ? `${text.slice(0, 1).toUpperCase()}${text.slice(1)}` : text;
  });
}

function valueText(field: number, dirty: boolean): fc.Arbitrary<string> {
  if (field !== 4 && field !== 5) return numberText(field, dirty);
  return fc.oneof({ weight: 3, arbitrary: numberText(field, dirty) }, { weight: 2, arbitrary: nameText(field) });
}

function specialText(field: number, dirty: boolean): fc.Arbitrary<string> {
  const weekday = fc.oneof(fc.integer({ min: 0, max: dirty ? 8 : 7 }).map(String), nameText(5));
  if (field === 3) {
    return fc.oneof(
      fc.constantFrom(...(dirty ? ['W', 'L-', '5L', '1#1'] : ['L', 'l', 'LW', 'lw'])),
      fc.integer({ min: dirty ? 0 : 1, max: dirty ? 32 : 30 }).map((n) => `L-${n}`),
      fc.integer({ min: dirty ? 0 : 1, max: dirty ? 33 : 31 }).map((n) => `${n}${dirty ? 'W' : 'w'}`),
    );
  }
  if (field === 5) {
    return fc.oneof(
      fc.tuple(weekday, fc.constantFrom('L', 'l')).map(([d, l]) => d + l),
      fc.tuple(weekday, fc.integer({ min: dirty ? 0 : 1, max: dirty ? 6 : 5 })).map(([d, n]) => `${d}#${n}`),
      ...(dirty ? [fc.constantFrom('L', 'LW', '1W')] : []),
    );
  }
  return fc.constantFrom('L', '1#1', '5L', '1W', 'L-2');
}

function itemArbitrary(field: number, dirty: boolean): fc.Arbitrary<string> {
  const value = valueText(field, dirty);
  const step = dirty
    ? fc.oneof(
        { weight: 5, arbitrary: fc.integer({ min: 1, max: 70 }).map(String) },
        { weight: 1, arbitrary: fc.constant('0') },
      )
    : fc.integer({ min: 1, max: 70 }).map(String);
  const items: fc.WeightedArbitrary<string>[] = [
    { weight: 6, arbitrary: value },
    { weight: 3, arbitrary: fc.tuple(value, value).map(([a, b]) => `${a}-${b}`) },
    { weight: 2, arbitrary: fc.tuple(value, value, step).map(([a, b, s]) => `${a}-${b}/${s}`) },
    { weight: 2, arbitrary: fc.constant('*') },
    { weight: 2, arbitrary: step.map((s) => `*/${s}`) },
  ];
  if (field === 3 || field === 5 || dirty) items.push({ weight: 3, arbitrary: specialText(field, dirty) });
  if (dirty) {
    items.push(
      { weight: 2, arbitrary: fc.constantFrom('', '?', '**', 'x', '#', '5/15', '1-2-3', '*5') },
      { weight: 2, arbitrary: fc.tuple(value, value).map(([a, b]) => `${a}${b}`) },
      { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1, max: 5 }), step).map(([d, s]) => `${d}*/${s}`) },
      { weight: 1, arbitrary: fc.tuple(value, value).map(([a, b]) => `*/${a}${b}`) },
    );
  }
  return fc.oneof(...items);
}

function fieldArbitrary(field: number): fc.Arbitrary<string> {
  const list = (dirty: boolean): fc.Arbitrary<string> =>
    fc.array(itemArbitrary(field, dirty), { minLength: 1, maxLength: 3 }).map((items) => items.join(','));
  const fields: fc.WeightedArbitrary<string>[] = [
    { weight: 14, arbitrary: list(false) },
    { weight: 2, arbitrary: list(true) },
  ];
  if (field === 3 || field === 5) fields.push({ weight: 1, arbitrary: fc.constant('?') });
  return fc.oneof(...fields);
}

function expressionArbitrary(): fc.Arbitrary<string> {
  const six = fc.tuple(...[0, 1, 2, 3, 4, 5].map(fieldArbitrary));
  return fc.oneof(
    { weight: 5, arbitrary: six.map((f) => f.slice(1).join(' ')) },
    { weight: 5, arbitrary: six.map((f) => f.join(' ')) },
    { weight: 1, arbitrary: six.map((f) => `  ${f.join('   ')} `) },
    { weight: 1, arbitrary: six.map((f) => f.slice(2).join(' ')) },
    { weight: 1, arbitrary: fc.constantFrom('@daily', '@HOURLY', '@weekly ', '@reboot', '@every', '* * * * * * *') },
  );
}
