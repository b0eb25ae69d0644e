import fc from 'fast-check';
import cron from 'node-cron';
import { afterAll, describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/time/cron-schedule.js';
import { compileExpression } from '../../src/time/expression.js';
import { TEST_ZONES, nearTransition } from './intl-reference.js';

const DAY = 86_400_000;
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

const tasks: ReturnType<typeof cron.createTask>[] = [];
function nodeCronTask(pattern: string, timezone?: string): ReturnType<typeof cron.createTask> {
  const task = cron.createTask(pattern, () => undefined, { timezone });
  tasks.push(task);
  return task;
}
afterAll(() => {
  for (const task of tasks) task.destroy();
});

describe('matches() agrees with node-cron’s task.match', () => {
  const SPECIAL_DAYS = [
    '0 0 L * *',
    '0 0 L-1 * *',
    '0 0 L-30 * *',
    '0 0 1W * *',
    '0 0 15W * *',
    '0 0 31W * *',
    '0 0 LW * *',
    '0 0 1,15,L,LW * *',
    '0 0 * * 5L',
    '0 0 * * 0L,7L',
    '0 0 * * 1#1',
    '0 0 * * 1#5',
    '0 0 * * 0#2,sat#3',
    '0 0 * * 1-5,1#1,5L',
    '0 0 13 * fri',
    '0 0 L * 5L',
    '0 0 1W * 1#1',
    '0 0 * feb-mar mon',
    '0 0 29 2 *',
  ];

  it.each(SPECIAL_DAYS.map((p) => [p]))('%s on every day of 2024-2028', (pattern) => {
    const ours = CronSchedule.of(pattern, 'UTC');
    const theirs = nodeCronTask(pattern, 'UTC');
    const mismatches: string[] = [];
    for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2029, 0, 1); t += DAY) {
      if (ours.matches(t) !== theirs.match(new Date(t))) mismatches.push(new Date(t).toISOString());
    }
    expect(mismatches).toEqual([]);
  });

  const expression = fc
    .tuple(
      fc.constantFrom('0', '*/15', '5,10,50'),
      fc.constantFrom('*', '*/7', '50-10', '0-30/4', '59'),
      fc.constantFrom('*', '22-2', '9-17', '*/5', '0'),
      fc.constantFrom('*', '?', 'L', '1-7', '25-5', '15W', 'L-2,1'),
      fc.constantFrom('*', 'nov-feb', '1,6-8', '*/2'),
      fc.constantFrom('*', 'sat-sun', '1-5', '5L', '2#2', '7', '5-7,0'),
    )
    .map((fields) => fields.join(' '));

  // Next to an offset change they differ on purpose: see cron-schedule-dst.test.ts.
  it('at random instants, in random zones, a day or more away from offset changes', () => {
    fc.assert(
      fc.property(
        expression,
        fc.constantFrom<string | undefined>(...TEST_ZONES, undefined),
        fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2050, 0, 1) }),
        (pattern, zone, t) => {
          const ours = CronSchedule.of(pattern, zone);
          const theirs = nodeCronTask(pattern, zone);
          // Random instants rarely match; fires of the schedule do, and a second later may not.
          for (const at of [t, ...ours.nextRuns(3, t).flatMap((fire) => [fire, fire + 1000, fire - 1000])]) {
            if (nearTransition(at, DAY, zone)) continue;
            expect(ours.matches(at), `${pattern} ${zone} ${iso(at)}`).toBe(theirs.match(new Date(at)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('next()', () => {
  it('is strictly after its argument, on whole seconds', () => {
    const schedule = CronSchedule.of('*/10 * * * * *', 'UTC');
    const fire = Date.UTC(2025, 0, 1, 0, 0, 10);
    expect(schedule.next(fire - 1)).toBe(fire);
    expect(schedule.next(fire)).toBe(fire + 10_000);
    expect(schedule.next(fire + 999)).toBe(fire + 10_000);
    expect(schedule.next(fire - 10_000)).toBe(fire);
  });

  it('ANDs day of month and day of week like node-cron', () => {
    // The first Monday that is the 1st after 2025-01-01.
    expect(iso(CronSchedule.of('0 0 12 1 * 1', 'UTC').next(Date.UTC(2025, 0, 1)))).toBe('2025-09-01T12:00:00.000Z');
  });

  it('finds sparse fires quickly, by walking days', () => {
    const schedule = CronSchedule.of('0 0 29 2 1', 'UTC');
    const started = performance.now();
    expect(iso(schedule.next(Date.UTC(2025, 0, 1)))).toBe('2044-02-29T00:00:00.000Z');
    expect(iso(schedule.next(Date.UTC(2044, 1, 29)))).toBe('2072-02-29T00:00:00.000Z');
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('returns null for an expression that never fires, as node-cron finds nothing', () => {
    for (const pattern of ['0 0 L-30 2 *', '0 0 31W 2 *', '0 0 30W feb *']) {
      expect(CronSchedule.of(pattern, 'UTC').next(Date.UTC(2025, 0, 1)), pattern).toBeNull();
      expect(CronSchedule.of(pattern, 'UTC').nextRuns(3, Date.UTC(2025, 0, 1))).toEqual([]);
      expect(() => nodeCronTask(pattern, 'UTC').getNextRuns(1)).toThrow('Could not find next matching date');
    }
  });

  it('reads a field the same way whatever the other fields (fields are compiled once per text)', () => {
    // cron-parser, given day 30 next to February alone, drops it. (Field texts not used elsewhere in this file.)
    expect(CronSchedule.of('0 0 01,30 02 *', 'UTC').next(Date.UTC(2025, 0, 1))).toBe(Date.UTC(2025, 1, 1));
    expect(CronSchedule.of('0 0 01,30 * *', 'UTC').nextRuns(2, Date.UTC(2025, 0, 2)).map(iso)).toEqual([
      '2025-01-30T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z',
    ]);
  });

  it('nextRuns chains next()', () => {
    expect(CronSchedule.of('0 0 * * sat-sun', 'UTC').nextRuns(4, Date.UTC(2025, 0, 1)).map(iso)).toEqual([
      '2025-01-04T00:00:00.000Z',
      '2025-01-05T00:00:00.000Z',
      '2025-01-11T00:00:00.000Z',
      '2025-01-12T00:00:00.000Z',
    ]);
  });

  it('rejects an instant that is not a finite number', () => {
    expect(() => CronSchedule.of('* * * * *').next(Number.NaN)).toThrow(RangeError);
  });

  it('is fast for dense expressions', () => {
    const schedule = CronSchedule.of('* * * * * *', 'America/New_York');
    let t = Date.UTC(2025, 0, 1);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) t = schedule.next(t) as number;
    // About 0.3 µs each when measured alone; the bound leaves room for a loaded machine.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(iso(t)).toBe('2025-01-02T03:46:40.000Z');
  });
});

describe('CronSchedule.of', () => {
  it('shares one schedule per pattern and zone, and one compiled pattern among zones', () => {
    const berlin = CronSchedule.of('0 9 * * 1-5', 'Europe/Berlin');
    const paris = CronSchedule.of('0 9 * * 1-5', 'Europe/Paris');
    expect(CronSchedule.of('0 9 * * 1-5', 'Europe/Berlin')).toBe(berlin);
    expect(paris).not.toBe(berlin);
    expect(CronSchedule.of('0 9 * * 1-5')).toBe(CronSchedule.of('0 9 * * 1-5'));
    const fieldsOf = (schedule: CronSchedule): unknown => (schedule as unknown as { fields: unknown }).fields;
    expect(fieldsOf(paris)).toBe(fieldsOf(berlin));
    expect(compileExpression('0 9 * * 1-5')).toBe(fieldsOf(berlin));
    expect(berlin.pattern).toBe('0 9 * * 1-5');
    expect(berlin.next(Date.UTC(2025, 0, 6))).toBe(Date.UTC(2025, 0, 6, 8));
    expect(paris.next(Date.UTC(2025, 0, 6, 8))).toBe(Date.UTC(2025, 0, 7, 8));
  });

  it('throws the pattern’s first error like node-cron’s createTask, and RangeError for a bad zone', () => {
    expect(() => CronSchedule.of('61 * * * *', 'UTC')).toThrow(new Error('61 is a invalid expression for minute'));
    expect(() => nodeCronTask('61 * * * *', 'UTC')).toThrow(new Error('61 is a invalid expression for minute'));
    expect(() => CronSchedule.of('* * * * *', 'Mars/Phobos')).toThrow(RangeError);
    expect(() => CronSchedule.of('* * * * *', 'Mars/Phobos')).toThrow('Invalid time zone specified: Mars/Phobos');
  });
});
