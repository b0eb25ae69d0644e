import fc from 'fast-check';
import cron from 'node-cron';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CronSchedule } from '../../src/time/cron-schedule.js';
import { validate } from '../../src/time/expression.js';
import { TEST_ZONES, intlTransitions, nearTransition } from './intl-reference.js';

/**
 * CronSchedule.next against node-cron 4.6's own next-run computation (createTask(...).getNextRuns with the
 * system clock faked to the start instant), over random expressions, zones and start instants.
 *
 * Exclusion rule: node-cron 4.6 is known wrong next to a UTC offset change (it skips wall times in a
 * spring-forward gap, and east of UTC it fires a repeated wall time at its second occurrence, or fires it again
 * when asked from inside the repeated hour). A sample where the two disagree is excluded only when the earlier
 * of the two answers lies within 3 hours of an offset change of the zone; every other disagreement fails.
 */

const HOUR = 3_600_000;
const MARGIN = 3 * HOUR;
const COUNT = 3;

beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
});
afterAll(() => {
  vi.useRealTimers();
});

function nodeCronRuns(pattern: string, timezone: string | undefined, from: number): (number | null)[] {
  vi.setSystemTime(from);
  const task = cron.createTask(pattern, () => undefined, { timezone });
  try {
    // node-cron throws when nothing matches within 100 years of days.
    return task.getNextRuns(COUNT).map((d) => d.getTime());
  } catch {
    return [null];
  } finally {
    task.destroy();
  }
}

function ourRuns(pattern: string, timezone: string | undefined, from: number): (number | null)[] {
  const runs: (number | null)[] = CronSchedule.of(pattern, timezone).nextRuns(COUNT, from);
  return runs.length < COUNT ? [...runs, null] : runs;
}

const stats = { compared: 0, excluded: 0 };

/** Compares fire by fire; after an excluded disagreement the two sequences start from different fires. */
function expectSameRuns(pattern: string, timezone: string | undefined, from: number): void {
  stats.compared++;
  const ours = ourRuns(pattern, timezone, from);
  const theirs = nodeCronRuns(pattern, timezone, from);
  for (let i = 0; i < Math.min(ours.length, theirs.length); i++) {
    const a = ours[i] ?? null;
    const b = theirs[i] ?? null;
    if (a === b) continue;
    const earlier = a === null ? b : b === null ? a : Math.min(a, b);
    const show = (ms: number | null): string => (ms === null ? 'none' : new Date(ms).toISOString());
    const where = `${pattern} in ${timezone ?? 'local'} from ${show(from)}`;
    const context = `${where}, fire ${i}: ours ${show(a)}, node-cron ${show(b)}`;
    expect(earlier !== null && nearTransition(earlier, MARGIN, timezone), context).toBe(true);
    stats.excluded++;
    return;
  }
}

// ---- valid expressions, reasonably dense so that node-cron answers quickly ----

const pick = <T>(...values: T[]): fc.Arbitrary<T> => fc.constantFrom(...values);
const int = (min: number, max: number): fc.Arbitrary<number> => fc.integer({ min, max });
const list = (item: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.array(item, { minLength: 1, maxLength: 3 }).map((items) => items.join(','));

function timeField(max: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: pick('*') },
    { weight: 3, arbitrary: int(1, max).map((n) => `*/${n}`) },
    { weight: 3, arbitrary: list(int(0, max).map(String)) },
    { weight: 2, arbitrary: fc.tuple(int(0, max), int(0, max)).map(([a, b]) => `${a}-${b}`) },
    { weight: 1, arbitrary: fc.tuple(int(0, max), int(0, max), int(1, 9)).map(([a, b, s]) => `${a}-${b}/${s}`) },
  );
}

const second = fc.oneof({ weight: 6, arbitrary: pick('0') }, { weight: 1, arbitrary: timeField(59) });
const dayOfMonth = fc.oneof(
  { weight: 6, arbitrary: pick('*', '?') },
  { weight: 3, arbitrary: list(int(1, 31).map(String)) },
  { weight: 1, arbitrary: fc.tuple(int(1, 31), int(1, 31)).map(([a, b]) => `${a}-${b}`) },
  {
    weight: 2,
    arbitrary: list(fc.oneof(pick('L', 'LW'), int(1, 30).map((n) => `L-${n}`), int(1, 31).map((n) => `${n}W`))),
  },
);
const month = fc.oneof(
  { weight: 6, arbitrary: pick('*') },
  { weight: 2, arbitrary: list(int(1, 12).map(String)) },
  { weight: 1, arbitrary: pick('jan-mar', 'nov-feb', 'mar,oct', 'Dec') },
  { weight: 1, arbitrary: int(1, 6).map((n) => `*/${n}`) },
);
const dayOfWeek = fc.oneof(
  { weight: 6, arbitrary: pick('*', '?') },
  { weight: 2, arbitrary: list(int(0, 7).map(String)) },
  { weight: 1, arbitrary: pick('mon-fri', 'sat-sun', 'fri-mon', '7-2', 'SUN') },
  {
    weight: 2,
    arbitrary: list(
      fc.oneof(
        int(0, 7).map((d) => `${d}L`),
        fc.tuple(int(0, 7), int(1, 5)).map(([d, n]) => `${d}#${n}`),
      ),
    ),
  },
);

const expression = fc
  .tuple(second, timeField(59), timeField(23), dayOfMonth, month, dayOfWeek, fc.boolean())
  .map(([s, m, h, dom, mon, dow, withSeconds]) => `${withSeconds ? `${s} ` : ''}${m} ${h} ${dom} ${mon} ${dow}`)
  .filter((pattern) => validate(pattern));

const zone = fc.constantFrom<string | undefined>(...TEST_ZONES, undefined);

const TRANSITIONS = TEST_ZONES.flatMap((z) =>
  intlTransitions(Date.UTC(2020, 0, 1), Date.UTC(2031, 0, 1), z, 24 * HOUR).map((at) => ({ zone: z, at })),
);

describe('CronSchedule.next against node-cron 4.6', () => {
  it('agrees from random instants, but next to offset changes', () => {
    fc.assert(
      fc.property(expression, zone, int(Date.UTC(2000, 0, 1), Date.UTC(2040, 0, 1)), (pattern, timezone, from) => {
        expectSameRuns(pattern, timezone, from);
      }),
      { numRuns: 600 },
    );
  });

  it('agrees from instants close to offset changes, but where node-cron is known wrong', () => {
    fc.assert(
      fc.property(
        expression,
        fc.constantFrom(...TRANSITIONS),
        int(-30 * HOUR, 6 * HOUR),
        (pattern, { zone: z, at }, offset) => {
          expectSameRuns(pattern, z, at + offset);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('excludes only a small share of the samples', () => {
    expect(stats.compared).toBeGreaterThanOrEqual(1100);
    expect(stats.excluded / stats.compared, JSON.stringify(stats)).toBeLessThan(0.15);
  });
});
