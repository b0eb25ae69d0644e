import { MS_PER_SECOND, floorToSecond, wallFromMs } from './calendar.js';
import { type OffsetReader, ZoneOffsets } from './zone-offsets.js';

const OFFSET_PATTERN = /GMT(?:([+-])(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/;

function invalidTimeZone(timezone: unknown): RangeError {
  return new RangeError(
    `Invalid time zone specified: ${String(timezone)} ` +
      `(the \`timezone\` option takes an IANA time zone name such as 'Europe/Berlin')`,
  );
}

/** `longOffset` prints the offset to the second ("GMT-00:43:08") whatever the year or calendar. */
function intlOffsetReader(format: Intl.DateTimeFormat): OffsetReader {
  return (instant) => {
    const match = OFFSET_PATTERN.exec(format.format(instant));
    if (match === null) throw new Error(`Cannot read the UTC offset from ${format.format(instant)}`);
    if (match[1] === undefined) return 0;
    const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60 + Number(match[4] ?? 0);
    return (match[1] === '-' ? -seconds : seconds) * MS_PER_SECOND;
  };
}

const byCanonicalName = new Map<string, ZoneOffsets>();
const byGivenName = new Map<string, ZoneOffsets>();
const byTzVariable = new Map<string, ZoneOffsets>();

function offsetsFor(format: Intl.DateTimeFormat): ZoneOffsets {
  const canonical = format.resolvedOptions().timeZone;
  let zone = byCanonicalName.get(canonical);
  if (zone === undefined) {
    zone = new ZoneOffsets(canonical === 'UTC' ? () => 0 : intlOffsetReader(format));
    byCanonicalName.set(canonical, zone);
  }
  return zone;
}

function namedZone(timezone: string): ZoneOffsets {
  let zone = byGivenName.get(timezone);
  if (zone === undefined) {
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hour: 'numeric', timeZoneName: 'longOffset' });
    } catch {
      throw invalidTimeZone(timezone);
    }
    zone = offsetsFor(format);
    byGivenName.set(timezone, zone);
  }
  return zone;
}

// The process-local zone follows process.env.TZ, which Node lets a program change at run time.
function localZone(): ZoneOffsets {
  const variable = process.env.TZ ?? '';
  let zone = byTzVariable.get(variable);
  if (zone === undefined) {
    zone = offsetsFor(new Intl.DateTimeFormat('en-US', { hour: 'numeric', timeZoneName: 'longOffset' }));
    byTzVariable.set(variable, zone);
  }
  return zone;
}

/** Offsets of an IANA zone, or of the process-local zone when `timezone` is undefined. Throws like assertTimeZone. */
export function zoneOffsets(timezone?: string): ZoneOffsets {
  if (timezone === undefined) return localZone();
  if (timezone === '') throw invalidTimeZone(timezone);
  return namedZone(timezone);
}

/** Accepts undefined (process-local zone) and every zone name Intl knows; throws node-cron's RangeError otherwise. */
export function assertTimeZone(timezone: unknown): void {
  if (timezone === undefined) return;
  if (typeof timezone !== 'string') throw invalidTimeZone(timezone);
  zoneOffsets(timezone);
}

/** The wall time (wall ms, see calendar.ts) shown in the zone at `instant`, to the second. */
export function wallTimeAt(instant: number, timezone?: string): number {
  const second = floorToSecond(instant);
  return second + zoneOffsets(timezone).offsetAt(second);
}

/** The first instant showing wall time `wall`, or the end of the spring-forward gap that skips it. */
export function instantOfWallTime(wall: number, timezone?: string): number {
  const second = floorToSecond(wall);
  // No zone is 40 h ahead of UTC, so every instant up to this one shows an earlier wall time.
  return zoneOffsets(timezone).firstInstantReaching(second, second - 40 * 3_600_000);
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function formatOffset(offset: number): string {
  if (offset === 0) return 'Z';
  const total = Math.abs(offset) / MS_PER_SECOND;
  const seconds = total % 60;
  const hhmm = `${offset < 0 ? '-' : '+'}${pad2(Math.floor(total / 3600))}:${pad2(Math.floor(total / 60) % 60)}`;
  return seconds === 0 ? hhmm : `${hhmm}:${pad2(seconds)}`;
}

/** node-cron's `dateLocalIso`: `2025-01-01T05:30:00.000+05:30`, or `…Z` at a zero offset. */
export function formatLocalIso(ms: number, timezone?: string): string {
  const second = floorToSecond(ms);
  const offset = zoneOffsets(timezone).offsetAt(second);
  const wall = wallFromMs(second + offset);
  return (
    `${wall.year}-${pad2(wall.month)}-${pad2(wall.day)}T${pad2(wall.hour)}:${pad2(wall.minute)}:${pad2(wall.second)}` +
    `.${String(ms - second).padStart(3, '0')}${formatOffset(offset)}`
  );
}
