import { afterAll, describe, expect, it } from 'vitest';
import cron from '../../src/index.js';
import type { ScheduledTask } from '../../src/types.js';
import { intlTransitions } from '../time/intl-reference.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const iso = (ms: number): string => new Date(ms).toISOString();

const tasks: ScheduledTask[] = [];
function task(pattern: string, timezone: string): ScheduledTask {
  const created = cron.createTask(pattern, () => undefined, { timezone });
  tasks.push(created);
  return created;
}
afterAll(() => {
  for (const created of tasks) created.destroy();
});

/** Fires in [from, to], as getNextRuns gives them. */
function firesIn(t: ScheduledTask, from: number, to: number): number[] {
  const fires: number[] = [];
  let after = from - SECOND;
  for (;;) {
    const batch = t.getNextRuns(1000, new Date(after)).map((d) => d.getTime());
    for (const fire of batch) {
      if (fire > to) return fires;
      fires.push(fire);
    }
    if (batch.length < 1000) return fires;
    after = batch[batch.length - 1] as number;
  }
}

describe('match() is true exactly at the fires getNextRuns yields', () => {
  it('New York: the 02:45 skipped by spring-forward runs at 03:00 and matches there; a repeated 01:30 does not', () => {
    const daily = task('45 2 * * *', 'America/New_York');
    // 2025-03-09 02:00 EST (07:00Z) jumps to 03:00 EDT.
    expect(daily.getNextRuns(1, new Date('2025-03-09T05:00:00Z'))).toEqual([new Date('2025-03-09T07:00:00Z')]);
    expect(daily.match(new Date('2025-03-09T07:00:00Z'))).toBe(true);
    expect(daily.match(new Date('2025-03-09T07:00:00.999Z'))).toBe(true);
    expect(daily.match(new Date('2025-03-09T06:59:59Z'))).toBe(false);
    expect(daily.match(new Date('2025-03-09T07:00:01Z'))).toBe(false);
    // 2025-11-02 02:00 EDT (06:00Z) goes back to 01:00 EST: 01:30 is shown at 05:30Z and again at 06:30Z.
    const repeated = task('30 1 * * *', 'America/New_York');
    expect(repeated.getNextRuns(2, new Date('2025-11-02T00:00:00Z'))).toEqual([
      new Date('2025-11-02T05:30:00Z'),
      new Date('2025-11-03T06:30:00Z'),
    ]);
    expect(repeated.match(new Date('2025-11-02T05:30:00Z'))).toBe(true);
    expect(repeated.match(new Date('2025-11-02T06:30:00Z'))).toBe(false);
  });

  // A year holding each zone's offset changes: 30- and 60-minute shifts, odd offsets, and Kathmandu's one change
  // (+05:30 → +05:45 at midnight, 1986-01-01).
  const YEARS: ReadonlyArray<readonly [string, number]> = [
    ['America/New_York', Date.UTC(2025, 0, 1)],
    ['Europe/Berlin', Date.UTC(2025, 0, 1)],
    ['Australia/Lord_Howe', Date.UTC(2025, 0, 1)],
    ['Pacific/Chatham', Date.UTC(2025, 0, 1)],
    ['Asia/Kathmandu', Date.UTC(1985, 6, 1)],
  ];
  // Times in the zones' gaps and overlaps: New York 02:00-03:00 / 01:00-02:00, Berlin 02:00-03:00 both ways,
  // Lord Howe 02:00-02:30 / 01:30-02:00, Chatham 02:45-03:45 both ways, Kathmandu 00:00-00:15.
  const SPARSE = [
    '45 2 * * *',
    '30 2 * * *',
    '45 1 * * *',
    '15 2 * * *',
    '50 2 * * *',
    '10 0 * * *',
    '0 2,3 * * *',
    '15,45 1-3 * * *',
    '0 0 * * 0',
    '0 * * * *',
    '*/15 * * * *',
  ];
  const DENSE = ['* * * * *', '*/20 * * * * *'];

  it.each(YEARS)('%s, over a year: each fire matches, the seconds around it and halfway to the next do not', (zone, from) => {
    const to = from + 366 * DAY;
    for (const pattern of SPARSE) {
      const t = task(pattern, zone);
      const fires = firesIn(t, from, to);
      expect(fires.length, pattern).toBeGreaterThan(50);
      const wrong: string[] = [];
      fires.forEach((fire, i) => {
        if (!t.match(new Date(fire))) wrong.push(`${iso(fire)} fires but does not match`);
        const next = fires[i + 1];
        const between = [fire - SECOND, fire + SECOND];
        if (next !== undefined) between.push(fire + Math.floor((next - fire) / 2 / SECOND) * SECOND);
        for (const at of between) {
          if (at !== next && at !== fires[i - 1] && t.match(new Date(at))) wrong.push(`${iso(at)} matches but does not fire`);
        }
      });
      expect(wrong, `${pattern} in ${zone}`).toEqual([]);
    }
  });

  it.each(YEARS)('%s, near each offset change: every second and every minute matches if and only if it fires', (zone, from) => {
    const changes = intlTransitions(from, from + 366 * DAY, zone, 6 * HOUR);
    expect(changes.length).toBeGreaterThan(0);
    for (const change of changes) {
      for (const pattern of [...SPARSE, ...DENSE]) {
        const t = task(pattern, zone);
        const start = change - 26 * HOUR;
        const end = change + 26 * HOUR;
        const fires = new Set(firesIn(t, start, end));
        const wrong: string[] = [];
        const check = (at: number): void => {
          if (t.match(new Date(at)) !== fires.has(at)) wrong.push(`${iso(at)} ${fires.has(at) ? 'fires but does not match' : 'matches but does not fire'}`);
        };
        for (let at = start; at <= end; at += MINUTE) check(at);
        for (let at = change - 75 * MINUTE; at <= change + 75 * MINUTE; at += SECOND) check(at);
        expect(wrong, `${pattern} in ${zone} around ${iso(change)}`).toEqual([]);
      }
    }
  });
});
