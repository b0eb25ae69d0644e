/**
 * Slow, independent answers straight from Intl, to check the time layer against. Valid for years 1900-2200.
 */
import type { WallTime } from '../../src/time/calendar.js';

const formats = new Map<string, Intl.DateTimeFormat>();

function format(timeZone: string | undefined): Intl.DateTimeFormat {
  // The process-local zone follows process.env.TZ; a format keeps the zone it was made in.
  const key = timeZone ?? `local:${process.env.TZ ?? ''}`;
  let f = formats.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      ...(timeZone === undefined ? {} : { timeZone }),
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(key, f);
  }
  return f;
}

export type IntlWall = Omit<WallTime, 'weekday'>;

export function intlWall(instant: number, timeZone?: string): IntlWall {
  const parts: Record<string, number> = {};
  for (const part of format(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  return {
    year: parts.year ?? Number.NaN,
    month: parts.month ?? Number.NaN,
    day: parts.day ?? Number.NaN,
    hour: parts.hour ?? Number.NaN,
    minute: parts.minute ?? Number.NaN,
    second: parts.second ?? Number.NaN,
  };
}

/** The wall time shown at `instant`, as ms of the same calendar reading in UTC (seconds precision). */
export function intlWallMs(instant: number, timeZone?: string): number {
  const w = intlWall(instant, timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
}

export function intlOffset(instant: number, timeZone?: string): number {
  const second = Math.floor(instant / 1000) * 1000;
  return intlWallMs(second, timeZone) - second;
}

const HOUR = 3_600_000;

/**
 * Offset changes in [from, to): samples every `step` (changes are days apart, so hourly is safe and daily is
 * enough in practice), each change bisected to the second.
 */
export function intlTransitions(from: number, to: number, timeZone?: string, step = HOUR): number[] {
  const changes: number[] = [];
  let low = Math.floor(from / 1000) * 1000;
  let lowOffset = intlOffset(low, timeZone);
  for (let t = low + step; t < to + step; t += step) {
    const offset = intlOffset(t, timeZone);
    if (offset !== lowOffset) {
      let a = low;
      let b = t;
      while (b - a > 1000) {
        const mid = a + Math.floor((b - a) / 2000) * 1000;
        if (intlOffset(mid, timeZone) === lowOffset) a = mid;
        else b = mid;
      }
      if (b >= from && b < to) changes.push(b);
    }
    low = t;
    lowOffset = offset;
  }
  return changes;
}

/** Whether the zone's offset changes within `margin` of `instant`. */
export function nearTransition(instant: number, margin: number, timeZone?: string): boolean {
  return intlOffset(instant - margin, timeZone) !== intlOffset(instant + margin, timeZone);
}

/**
 * Checks that `u` is the first whole-second instant whose wall time reaches `wall`: it shows `wall` or later,
 * and nothing before it did (the second before, and the last second before any offset change in the 30 hours
 * before it, which is where a fall-back leaves its latest wall time).
 */
export function isFirstInstantReaching(u: number, wall: number, timeZone?: string): boolean {
  if (u % 1000 !== 0 || intlWallMs(u, timeZone) < wall || intlWallMs(u - 1000, timeZone) >= wall) return false;
  return intlTransitions(u - 30 * HOUR, u, timeZone).every((t) => intlWallMs(t - 1000, timeZone) < wall);
}

/** A spread of zones with odd offsets, DST rules and transitions at or across midnight. */
export const TEST_ZONES = [
  'UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'America/Havana',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Australia/Adelaide',
  'America/Santiago',
  'Asia/Beirut',
  'Pacific/Apia',
  'Africa/Casablanca',
  'Europe/London',
  'Asia/Tehran',
  'Antarctica/Troll',
] as const;
