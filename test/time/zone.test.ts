import fc from 'fast-check';
import cron from 'node-cron';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { assertTimeZone, formatLocalIso, instantOfWallTime, wallTimeAt } from '../../src/time/zone.js';
import { TEST_ZONES, intlTransitions, intlWallMs, isFirstInstantReaching } from './intl-reference.js';

const ALL_ZONES = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
const YEAR_1900 = Date.UTC(1900, 0, 1);
const YEAR_2100 = Date.UTC(2100, 0, 1);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const anyZone = fc.constantFrom(...ALL_ZONES);
const instant = fc.integer({ min: YEAR_1900, max: YEAR_2100 });

/** Offset changes of 2024-2026 in the test zones, and of the whole 1970-2040 range in a few odd ones. */
function transitionSamples(): { zone: string; at: number }[] {
  const samples: { zone: string; at: number }[] = [];
  for (const zone of TEST_ZONES) {
    for (const at of intlTransitions(Date.UTC(2024, 0, 1), Date.UTC(2027, 0, 1), zone, DAY)) samples.push({ zone, at });
  }
  for (const zone of ['Pacific/Apia', 'America/Havana', 'Australia/Lord_Howe', 'Africa/Casablanca']) {
    for (let year = 1970; year < 2040; year += 7) {
      for (const at of intlTransitions(Date.UTC(year, 0, 1), Date.UTC(year + 1, 0, 1), zone, DAY)) {
        samples.push({ zone, at });
      }
    }
  }
  return samples;
}
const TRANSITIONS = transitionSamples();

describe('UTC → wall time', () => {
  it('agrees with Intl at random instants in every IANA zone', () => {
    fc.assert(
      fc.property(anyZone, instant, (zone, ms) => {
        expect(wallTimeAt(ms, zone)).toBe(intlWallMs(ms, zone));
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees with Intl on both sides of offset changes, incl. 30/45-minute and midnight ones', () => {
    expect(TRANSITIONS.length).toBeGreaterThan(60);
    for (const { zone, at } of TRANSITIONS) {
      for (const delta of [-HOUR - 1000, -1000, -1, 0, 1, 1000, HOUR]) {
        expect(wallTimeAt(at + delta, zone), `${zone} ${new Date(at + delta).toISOString()}`).toBe(
          intlWallMs(at + delta, zone),
        );
      }
    }
  });

  it('agrees with Intl in the process-local zone', () => {
    fc.assert(
      fc.property(instant, (ms) => {
        expect(wallTimeAt(ms)).toBe(intlWallMs(ms));
      }),
      { numRuns: 300 },
    );
  });
});

describe('wall time → UTC', () => {
  it('gives the first instant reaching a random wall time in every IANA zone', () => {
    fc.assert(
      fc.property(anyZone, instant, (zone, ms) => {
        const wall = Math.floor(ms / 1000) * 1000;
        expect(isFirstInstantReaching(instantOfWallTime(wall, zone), wall, zone)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the first occurrence in an overlap and the end of a gap, around every sampled offset change', () => {
    for (const { zone, at } of TRANSITIONS) {
      const before = intlWallMs(at - 1000, zone) + 1000;
      const after = intlWallMs(at, zone);
      // Wall times around the jump, on both sides and inside the gap or overlap.
      const walls = [before - HOUR, before - 1000, before, after, after + 1000, (before + after) / 2, after + HOUR];
      for (const wall of walls) {
        const rounded = Math.floor(wall / 1000) * 1000;
        expect(isFirstInstantReaching(instantOfWallTime(rounded, zone), rounded, zone), `${zone} ${rounded}`).toBe(
          true,
        );
      }
    }
  });

  it('maps a time skipped by a spring-forward to the end of the gap', () => {
    // 2025-03-09 02:30 does not exist in New York; the clocks jump from 02:00 EST to 03:00 EDT at 07:00Z.
    expect(instantOfWallTime(Date.UTC(2025, 2, 9, 2, 30), 'America/New_York')).toBe(Date.UTC(2025, 2, 9, 7));
    // 2025-11-02 01:30 happens twice; the first time is EDT.
    expect(instantOfWallTime(Date.UTC(2025, 10, 2, 1, 30), 'America/New_York')).toBe(Date.UTC(2025, 10, 2, 5, 30));
    // Berlin's repeated 02:30 on 2025-10-26: first in CEST (00:30Z), not CET (01:30Z).
    expect(instantOfWallTime(Date.UTC(2025, 9, 26, 2, 30), 'Europe/Berlin')).toBe(Date.UTC(2025, 9, 26, 0, 30));
  });
});

describe('formatLocalIso', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** node-cron's dateLocalIso of an invoked run at `ms`. */
  async function nodeCronIso(ms: number, timezone: string | undefined): Promise<string> {
    vi.setSystemTime(ms);
    const task = cron.createTask('* * * * *', () => undefined, { timezone });
    let iso = '';
    task.on('execution:started', (context) => {
      iso = context.dateLocalIso;
    });
    await task.execute();
    task.destroy();
    return iso;
  }

  // Before 1972 some zones had offsets with seconds (local mean time, Liberia's -00:44:30): node-cron prints
  // those as `Z`, fleetcron as `-00:44:30`.
  it('prints exactly what node-cron prints for instants with whole-minute offsets', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...TEST_ZONES, undefined),
        fc.integer({ min: Date.UTC(1972, 6, 1), max: YEAR_2100 }),
        async (zone, ms) => {
          expect(formatLocalIso(ms, zone)).toBe(await nodeCronIso(ms, zone));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('formats offsets and milliseconds', () => {
    const ms = Date.UTC(2025, 0, 1, 0, 0, 0, 7);
    expect(formatLocalIso(ms, 'Asia/Kolkata')).toBe('2025-01-01T05:30:00.007+05:30');
    expect(formatLocalIso(ms, 'Asia/Kathmandu')).toBe('2025-01-01T05:45:00.007+05:45');
    expect(formatLocalIso(ms, 'America/St_Johns')).toBe('2024-12-31T20:30:00.007-03:30');
    expect(formatLocalIso(ms, 'UTC')).toBe('2025-01-01T00:00:00.007Z');
    expect(formatLocalIso(ms, 'Europe/London')).toBe('2025-01-01T00:00:00.007Z');
    expect(formatLocalIso(Date.UTC(1960, 0, 1), 'Africa/Monrovia')).toBe('1959-12-31T23:15:30.000-00:44:30');
  });
});

describe('assertTimeZone', () => {
  it('accepts undefined and IANA names in any case', () => {
    expect(() => assertTimeZone(undefined)).not.toThrow();
    expect(() => assertTimeZone('Europe/Berlin')).not.toThrow();
    expect(() => assertTimeZone('america/new_york')).not.toThrow();
    expect(() => assertTimeZone('UTC')).not.toThrow();
  });

  it.each([['Mars/Phobos'], [''], [null], [5], [' UTC']])('rejects %j with node-cron’s RangeError', (zone) => {
    expect(() => assertTimeZone(zone)).toThrow(RangeError);
    expect(() => assertTimeZone(zone)).toThrow(`Invalid time zone specified: ${String(zone)}`);
  });

  it('uses node-cron’s message for a zone node-cron rejects', () => {
    const task = cron.createTask('* * * * *', () => undefined, { timezone: 'Mars/Phobos' });
    let nodeCronError: unknown;
    try {
      task.getNextRuns(1);
    } catch (error) {
      nodeCronError = error;
    }
    expect(nodeCronError).toBeInstanceOf(RangeError);
    expect(() => assertTimeZone('Mars/Phobos')).toThrow((nodeCronError as Error).message);
  });
});
