import fc from 'fast-check';
import cron from 'node-cron';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { CronSchedule } from '../../src/time/cron-schedule.js';
import { formatLocalIso, wallTimeAt } from '../../src/time/zone.js';
import { intlWallMs, nearTransition } from './intl-reference.js';

// This file changes process.env.TZ, so the process-local zone gets tested with DST and odd offsets.
const originalTz = process.env.TZ;
afterAll(() => {
  if (originalTz === undefined) delete process.env.TZ;
  else process.env.TZ = originalTz;
});
afterEach(() => {
  vi.useRealTimers();
});

const iso = (ms: number): string => new Date(ms).toISOString();

describe('the process-local zone (timezone undefined)', () => {
  it('follows process.env.TZ, even when it changes at run time', () => {
    process.env.TZ = 'America/New_York';
    expect(CronSchedule.of('30 2 * * *').nextRuns(3, Date.UTC(2025, 2, 8)).map(iso)).toEqual([
      '2025-03-08T07:30:00.000Z',
      '2025-03-09T07:00:00.000Z',
      '2025-03-10T06:30:00.000Z',
    ]);
    expect(formatLocalIso(Date.UTC(2025, 0, 1))).toBe('2024-12-31T19:00:00.000-05:00');

    process.env.TZ = 'Asia/Kolkata';
    expect(iso(CronSchedule.of('30 2 * * *').next(Date.UTC(2025, 2, 8)) as number)).toBe('2025-03-08T21:00:00.000Z');
    expect(formatLocalIso(Date.UTC(2025, 0, 1))).toBe('2025-01-01T05:30:00.000+05:30');
  });

  const zones = [['Australia/Lord_Howe'], ['Europe/Berlin'], ['America/Havana']];
  it.each(zones)('in %s: wall times agree with Intl', (zone) => {
    process.env.TZ = zone;
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1900, 0, 1), max: Date.UTC(2100, 0, 1) }), (at) => {
        expect(wallTimeAt(at)).toBe(intlWallMs(at));
      }),
      { numRuns: 500 },
    );
  });

  // node-cron keeps the Intl formatters it made first, so it is compared in one local zone only.
  it('in Australia/Lord_Howe: next fires agree with node-cron (but next to offset changes)', () => {
    process.env.TZ = 'Australia/Lord_Howe';
    vi.useFakeTimers({ toFake: ['Date'] });
    fc.assert(
      fc.property(
        fc.constantFrom('0 * * * *', '*/30 1-3 * * *', '45 1 * * *', '0 0 * * *', '15 2 L * *', '0 0 9 * * 1-5'),
        fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
        (pattern, from) => {
          const ours = CronSchedule.of(pattern).next(from) as number;
          vi.setSystemTime(from);
          const task = cron.createTask(pattern, () => undefined);
          const theirs = task.getNextRuns(1)[0]?.getTime() as number;
          task.destroy();
          // The exclusion rule of cron-schedule-oracle.test.ts.
          if (ours !== theirs) expect(nearTransition(Math.min(ours, theirs), 3 * 3_600_000)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
