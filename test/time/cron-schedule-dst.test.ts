import fc from 'fast-check';
import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CronSchedule } from '../../src/time/cron-schedule.js';
import { TEST_ZONES, intlOffset, intlTransitions, intlWall, intlWallMs } from './intl-reference.js';

const iso = (ms: number): string => new Date(ms).toISOString();
// Instants in UTC, written `2025-03-09 07:00` (seconds only when not zero).
const parseUtc = (text: string): number => Date.parse(`${text.replace(' ', 'T')}Z`);
const formatUtc = (ms: number): string => iso(ms).slice(0, 19).replace('T', ' ').replace(/:00$/, '');

/** The next `count` fires after `from`. */
function fires(pattern: string, zone: string | undefined, from: string, count: number): string[] {
  return CronSchedule.of(pattern, zone).nextRuns(count, parseUtc(from)).map(formatUtc);
}

describe('spring-forward gap: a skipped time fires once, when the gap ends', () => {
  // New York 2025-03-09: 02:00 EST (07:00Z) jumps to 03:00 EDT.
  it('a daily 02:30 runs at 03:00 EDT on the spring-forward day (node-cron 4.6 skips the day)', () => {
    expect(fires('30 2 * * *', 'America/New_York', '2025-03-08 00:00', 3)).toEqual([
      '2025-03-08 07:30',
      '2025-03-09 07:00',
      '2025-03-10 06:30',
    ]);
  });

  it('does not fire twice where a regular fire falls at the end of the gap', () => {
    expect(fires('0 2,3 * * *', 'America/New_York', '2025-03-09 00:00', 3)).toEqual([
      '2025-03-09 07:00',
      '2025-03-10 06:00',
      '2025-03-10 07:00',
    ]);
    expect(fires('*/30 2 * * *', 'America/New_York', '2025-03-09 00:00', 3)).toEqual([
      '2025-03-09 07:00',
      '2025-03-10 06:00',
      '2025-03-10 06:30',
    ]);
    expect(fires('* * * * *', 'America/New_York', '2025-03-09 06:58', 3)).toEqual([
      '2025-03-09 06:59',
      '2025-03-09 07:00',
      '2025-03-09 07:01',
    ]);
    expect(fires('* * * * * *', 'America/New_York', '2025-03-09 06:59:58', 3)).toEqual([
      '2025-03-09 06:59:59',
      '2025-03-09 07:00',
      '2025-03-09 07:00:01',
    ]);
  });

  it('Berlin 2025-03-30: 02:30 runs at 03:00 CEST', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2025-03-29 12:00', 2)).toEqual([
      '2025-03-30 01:00',
      '2025-03-31 00:30',
    ]);
  });

  it('Lord Howe’s 30-minute jump (02:00 → 02:30 +11)', () => {
    expect(fires('15 2 * * *', 'Australia/Lord_Howe', '2025-10-04 00:00', 2)).toEqual([
      '2025-10-04 15:30',
      '2025-10-05 15:15',
    ]);
  });

  it('Chatham’s jump at 02:45 (+12:45 → +13:45)', () => {
    expect(fires('0 3 * * *', 'Pacific/Chatham', '2025-09-27 00:00', 2)).toEqual([
      '2025-09-27 14:00',
      '2025-09-28 13:15',
    ]);
  });

  it('Havana’s midnight gap: 00:00 and 00:30 run at 01:00 CDT', () => {
    expect(fires('30 0 * * *', 'America/Havana', '2025-03-08 12:00', 2)).toEqual([
      '2025-03-09 05:00',
      '2025-03-10 04:30',
    ]);
    expect(fires('0 0 * * 0', 'America/Havana', '2025-03-08 12:00', 1)).toEqual(['2025-03-09 05:00']);
  });

  it('Santiago’s midnight gap', () => {
    expect(fires('0 0 * * *', 'America/Santiago', '2025-09-06 12:00', 2)).toEqual([
      '2025-09-07 04:00',
      '2025-09-08 03:00',
    ]);
  });

  it('Apia’s skipped day (2011-12-30): its noon runs when the day ends, then 12:00 of the 31st', () => {
    expect(fires('0 12 * * *', 'Pacific/Apia', '2011-12-29 12:00', 3)).toEqual([
      '2011-12-29 22:00',
      '2011-12-30 10:00',
      '2011-12-30 22:00',
    ]);
  });
});

describe('fall-back overlap: a repeated time fires once, at its first occurrence', () => {
  // New York 2025-11-02: 02:00 EDT (06:00Z) goes back to 01:00 EST.
  it('hourly: 00:00 EDT, 01:00 EDT, 02:00 EST (the repeated 01:00 EST does not run)', () => {
    expect(fires('0 * * * *', 'America/New_York', '2025-11-02 03:30', 4)).toEqual([
      '2025-11-02 04:00',
      '2025-11-02 05:00',
      '2025-11-02 07:00',
      '2025-11-02 08:00',
    ]);
  });

  it('*/30 pauses for the repeated hour, also when asked from inside it', () => {
    expect(fires('*/30 * * * *', 'America/New_York', '2025-11-02 04:45', 4)).toEqual([
      '2025-11-02 05:00',
      '2025-11-02 05:30',
      '2025-11-02 07:00',
      '2025-11-02 07:30',
    ]);
    expect(fires('*/30 * * * *', 'America/New_York', '2025-11-02 06:15', 1)).toEqual(['2025-11-02 07:00']);
  });

  it('a daily 01:30 runs at 01:30 EDT', () => {
    expect(fires('30 1 * * *', 'America/New_York', '2025-11-01 12:00', 2)).toEqual([
      '2025-11-02 05:30',
      '2025-11-03 06:30',
    ]);
  });

  it('east of UTC too: Berlin’s repeated 02:30 runs at 00:30Z (CEST), not 01:30Z', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2025-10-25 12:00', 2)).toEqual([
      '2025-10-26 00:30',
      '2025-10-27 01:30',
    ]);
  });

  it('Lord Howe (01:30-02:00 repeated), Chatham (02:45-03:45), Havana (00:00-01:00), Santiago (23:00-24:00)', () => {
    expect(fires('45 1 * * *', 'Australia/Lord_Howe', '2025-04-05 00:00', 2)).toEqual([
      '2025-04-05 14:45',
      '2025-04-06 15:15',
    ]);
    expect(fires('0 3 * * *', 'Pacific/Chatham', '2025-04-05 00:00', 2)).toEqual([
      '2025-04-05 13:15',
      '2025-04-06 14:15',
    ]);
    expect(fires('30 0 * * *', 'America/Havana', '2025-11-01 12:00', 2)).toEqual([
      '2025-11-02 04:30',
      '2025-11-03 05:30',
    ]);
    expect(fires('30 23 * * *', 'America/Santiago', '2025-04-05 12:00', 2)).toEqual([
      '2025-04-06 02:30',
      '2025-04-07 03:30',
    ]);
    // Santiago's Sunday 2025-04-06 00:00 -03 is never shown (23:59:59 -03 is followed by 23:00 -04): it is first
    // reached after the repeated hour.
    expect(fires('0 0 * * 0', 'America/Santiago', '2025-04-05 12:00', 1)).toEqual(['2025-04-06 04:00']);
  });

  it('zones without DST and UTC are plain', () => {
    expect(fires('0 9 * * 1-5', 'Asia/Kolkata', '2025-01-01 00:00', 3)).toEqual([
      '2025-01-01 03:30',
      '2025-01-02 03:30',
      '2025-01-03 03:30',
    ]);
    expect(fires('0 9 * * 1-5', 'UTC', '2025-01-03 10:00', 1)).toEqual(['2025-01-06 09:00']);
  });
});

describe('where node-cron 4.6 differs (listed in the migration guide)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function nodeCronFires(pattern: string, timezone: string, from: string, count: number): string[] {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(parseUtc(from));
    const task = cron.createTask(pattern, () => undefined, { timezone });
    const runs = task.getNextRuns(count).map((d) => formatUtc(d.getTime()));
    task.destroy();
    return runs;
  }

  it('node-cron skips the spring-forward day and fires Berlin’s repeated 02:30 at its second occurrence', () => {
    expect(nodeCronFires('30 2 * * *', 'America/New_York', '2025-03-08 12:00', 1)).toEqual(['2025-03-10 06:30']);
    expect(fires('30 2 * * *', 'America/New_York', '2025-03-08 12:00', 1)).toEqual(['2025-03-09 07:00']);
    expect(nodeCronFires('30 2 * * *', 'Europe/Berlin', '2025-10-25 12:00', 1)).toEqual(['2025-10-26 01:30']);
    expect(fires('30 2 * * *', 'Europe/Berlin', '2025-10-25 12:00', 1)).toEqual(['2025-10-26 00:30']);
  });

  it('node-cron’s match() reads the wall clock: false where a skipped time runs, true where a fire is not repeated', () => {
    const theirs = cron.createTask('30 2 * * *', () => undefined, { timezone: 'Europe/Berlin' });
    const ours = CronSchedule.of('30 2 * * *', 'Europe/Berlin');
    // 2025-03-30: 02:00 CET (01:00Z) jumps to 03:00 CEST; 2025-10-26: 02:30 is shown at 00:30Z and 01:30Z.
    for (const [at, nodeCron, fleetcron] of [
      ['2025-03-30 01:00', false, true],
      ['2025-10-26 00:30', true, true],
      ['2025-10-26 01:30', true, false],
    ] as const) {
      expect(theirs.match(new Date(parseUtc(at))), at).toBe(nodeCron);
      expect(ours.matches(parseUtc(at)), at).toBe(fleetcron);
    }
    theirs.destroy();
  });
});

// ---- every fire around real offset changes, against a brute-force walk of the clock through Intl ----

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** node-cron's parse() of a plain numeric expression, as a wall-time predicate. */
function wallMatcher(pattern: string): (wall: number) => boolean {
  const f = cron.parse(pattern);
  return (wall) => {
    const d = new Date(wall);
    return (
      f.second.includes(d.getUTCSeconds()) &&
      f.minute.includes(d.getUTCMinutes()) &&
      f.hour.includes(d.getUTCHours()) &&
      f.dayOfMonth.includes(d.getUTCDate()) &&
      f.month.includes(d.getUTCMonth() + 1) &&
      f.dayOfWeek.includes(d.getUTCDay())
    );
  };
}

/**
 * The fires in (from, to] by the definition, minute by minute: an instant fires when the wall clock reaches a
 * matching wall time it has not shown before (all of them, after a jump forward). For expressions firing on
 * second 0, in zones whose changes fall on whole minutes.
 */
function referenceFires(pattern: string, zone: string, from: number, to: number): number[] {
  const matches = wallMatcher(pattern);
  const start = Math.floor(from / MINUTE) * MINUTE;
  let peak = intlWallMs(start, zone);
  for (const t of intlTransitions(start - 30 * HOUR, start + 1, zone)) {
    peak = Math.max(peak, intlWallMs(t - 1000, zone));
  }
  const result: number[] = [];
  for (let t = start + MINUTE; t <= to; t += MINUTE) {
    const wall = intlWallMs(t, zone);
    if (wall <= peak) continue;
    let reached = false;
    for (let w = Math.floor(peak / MINUTE) * MINUTE + MINUTE; w <= wall && !reached; w += MINUTE) reached = matches(w);
    if (reached) result.push(t);
    peak = wall;
  }
  return result;
}

const PLAIN_PATTERNS = [
  '* * * * *',
  '*/30 * * * *',
  '0 * * * *',
  '15,45 * * * *',
  '30 2 * * *',
  '0 2,3 * * *',
  '*/30 2 * * *',
  '0 0 * * *',
  '30 0 * * *',
  '30 23 * * *',
  '45 1,2 * * *',
  '0 3 * * *',
  '0,15,30,45 0-3 * * 0',
  '59 23 * * *',
  '0 0 * * 0',
];

function transitionsOf(zones: readonly string[]): { zone: string; at: number }[] {
  return zones.flatMap((zone) =>
    intlTransitions(Date.UTC(2024, 0, 1), Date.UTC(2027, 0, 1), zone, 24 * HOUR)
      .filter((at) => at % MINUTE === 0)
      .map((at) => ({ zone, at })),
  );
}
const TRANSITIONS = transitionsOf(TEST_ZONES);

describe('fires around offset changes (brute force through Intl)', () => {
  it('are exactly the fires the definition gives, in every test zone', () => {
    expect(TRANSITIONS.length).toBeGreaterThan(50);
    fc.assert(
      fc.property(
        fc.constantFrom(...TRANSITIONS),
        fc.constantFrom(...PLAIN_PATTERNS),
        fc.integer({ min: -20 * HOUR, max: 2 * HOUR }),
        ({ zone, at }, pattern, offset) => {
          const from = at + offset;
          const to = at + 8 * HOUR;
          const ours = CronSchedule.of(pattern, zone)
            .nextRuns(2000, from)
            .filter((t) => t <= to);
          const expected = referenceFires(pattern, zone, from, to);
          expect(ours.map(iso), `${pattern} ${zone} from ${iso(from)}`).toEqual(expected.map(iso));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('the sequence of fires', () => {
  const ALL_ZONES = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
  const patterns = fc.constantFrom(
    ...PLAIN_PATTERNS,
    '* * * * * *',
    '*/7 * * * * *',
    '30 */5 * * * *',
    '0 0 L * *',
    '0 0 15W * *',
    '0 0 * * 5L',
    '0 0 * * 1#2',
    '0 30 1 * * 0',
  );

  it('strictly increases on whole seconds through every transition, in every IANA zone', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ALL_ZONES),
        patterns,
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2037, 0, 1) }),
        (zone, pattern, from) => {
          const schedule = CronSchedule.of(pattern, zone);
          // node-cron's match() reads the wall clock.
          const wallReader = cron.createTask(pattern, () => undefined, { timezone: zone });
          let previous = from;
          for (const fire of schedule.nextRuns(40, from)) {
            expect(fire).toBeGreaterThan(previous);
            expect(fire % 1000).toBe(0);
            // Either the wall time shown matches, or it ends a gap in which a matching time was skipped.
            const endsGap = intlOffset(fire - 1000, zone) < intlOffset(fire, zone);
            expect(wallReader.match(new Date(fire)) || endsGap, `${pattern} ${zone} ${iso(fire)}`).toBe(true);
            expect(schedule.matches(fire)).toBe(true);
            previous = fire;
          }
          wallReader.destroy();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('near every sampled transition of the test zones too', () => {
    for (const { zone, at } of TRANSITIONS) {
      for (const pattern of ['* * * * * *', '*/30 * * * *', '0 2,3 * * *']) {
        const runs = CronSchedule.of(pattern, zone).nextRuns(pattern === '* * * * * *' ? 7300 : 60, at - HOUR);
        const backwards = runs.filter((run, i) => i > 0 && run <= (runs[i - 1] as number));
        expect(backwards, `${pattern} ${zone}`).toEqual([]);
      }
    }
  });

  it('matches() is true at a fire, to the second, and not where its wall time is shown again', () => {
    const schedule = CronSchedule.of('30 2 * * *', 'Europe/Berlin');
    expect(schedule.matches(Date.UTC(2025, 9, 26, 0, 30))).toBe(true);
    expect(schedule.matches(Date.UTC(2025, 9, 26, 0, 30, 0, 999))).toBe(true);
    expect(schedule.matches(Date.UTC(2025, 9, 26, 0, 30, 1))).toBe(false);
    expect(schedule.matches(Date.UTC(2025, 9, 26, 1, 30))).toBe(false);
    const w = intlWall(Date.UTC(2025, 9, 26, 1, 30), 'Europe/Berlin');
    expect([w.hour, w.minute]).toEqual([2, 30]);
  });
});
