import {
  MS_PER_DAY,
  MS_PER_SECOND,
  civilFromDays,
  daysFromCivil,
  daysInMonth,
  floorToSecond,
  weekdayFromDays,
} from './calendar.js';
import {
  type CronFields,
  dayMatches,
  firstDayFrom,
  firstTimeFrom,
  monthMatches,
  plainDaysOfMonth,
} from './cron-fields.js';
import { compileExpression } from './expression.js';
import { WeakValueCache } from './weak-value-cache.js';
import { zoneOffsets } from './zone.js';
import type { ZoneOffsets } from './zone-offsets.js';

/** node-cron gives up after 100 years of days. */
const HORIZON_DAYS = 366 * 100;

/**
 * The smallest wall time after `after` (both wall ms) that the fields match, walking calendar days (jumping over
 * excluded months and, for a plain day-of-month list, to the next listed day), or null within the horizon.
 */
function nextMatchingWall(fields: CronFields, after: number): number | null {
  const start = after + MS_PER_SECOND;
  let days = Math.floor(start / MS_PER_DAY);
  const lastDay = days + HORIZON_DAYS - 1;
  let { year, month, day } = civilFromDays(days);
  let weekday = weekdayFromDays(days);
  let monthLength = daysInMonth(year, month);
  const firstTime = firstTimeFrom(fields, 0);
  let time = firstTimeFrom(fields, (start - days * MS_PER_DAY) / MS_PER_SECOND);
  const plainDays = plainDaysOfMonth(fields);

  while (days <= lastDay) {
    const candidate = plainDays === 0 ? day : firstDayFrom(plainDays, day);
    if (!monthMatches(fields, month) || candidate === 0 || candidate > monthLength) {
      if (++month > 12) {
        month = 1;
        year++;
      }
      day = 1;
      days = daysFromCivil(year, month, 1);
      weekday = weekdayFromDays(days);
      monthLength = daysInMonth(year, month);
      time = firstTime;
    } else if (candidate !== day) {
      days += candidate - day;
      weekday = (weekday + candidate - day) % 7;
      day = candidate;
      time = firstTime;
    } else if (time >= 0 && dayMatches(fields, year, month, day, weekday)) {
      return days * MS_PER_DAY + time * MS_PER_SECOND;
    } else {
      days++;
      weekday = (weekday + 1) % 7;
      time = firstTime;
      if (++day > monthLength) {
        day = 1;
        if (++month > 12) {
          month = 1;
          year++;
        }
        monthLength = daysInMonth(year, month);
      }
    }
  }
  return null;
}

/**
 * When a cron expression fires, in a time zone. A fire is the first instant whose wall time reaches a matching
 * wall time: its first occurrence after a fall-back, the end of the gap for a time skipped by a spring-forward.
 * Several wall times reaching the same instant fire once, and a wall time shown again after a fall-back does not
 * fire again.
 */
export class CronSchedule {
  // Tasks on one pattern and zone share a schedule while any of them lives.
  private static readonly shared = new Map<ZoneOffsets, WeakValueCache<string, CronSchedule>>();

  private constructor(
    readonly pattern: string,
    private readonly fields: CronFields,
    private readonly zone: ZoneOffsets,
  ) {}

  /** Shared per pattern and zone. Throws the pattern's first validation error, or RangeError for a bad zone. */
  static of(pattern: string, timezone?: string): CronSchedule {
    const zone = zoneOffsets(timezone);
    let schedules = CronSchedule.shared.get(zone);
    if (schedules === undefined) {
      schedules = new WeakValueCache();
      CronSchedule.shared.set(zone, schedules);
    }
    let schedule = schedules.get(pattern);
    if (schedule === undefined) {
      schedule = new CronSchedule(pattern, compileExpression(pattern), zone);
      schedules.set(pattern, schedule);
    }
    return schedule;
  }

  /** The first fire strictly after `afterMs` (epoch ms, result on a whole second), or null within 100 years. */
  next(afterMs: number): number | null {
    if (!Number.isFinite(afterMs)) throw new RangeError(`Invalid instant: ${afterMs}`);
    const after = floorToSecond(afterMs);
    // Wall times already shown by `after` (including before a fall-back) have had their fire.
    const wall = nextMatchingWall(this.fields, this.zone.wallPeak(after));
    return wall === null ? null : this.zone.firstInstantReaching(wall, after);
  }

  /** Up to `count` consecutive fires after `fromMs`; fewer if the expression stops firing within 100 years. */
  nextRuns(count: number, fromMs: number): number[] {
    const runs: number[] = [];
    let from = fromMs;
    while (runs.length < count) {
      const next = this.next(from);
      if (next === null) break;
      runs.push(next);
      from = next;
    }
    return runs;
  }

  /**
   * Whether the task fires at the whole second holding `ms`: the first fire after the second before is that
   * second. So a gap's end matches when it runs a skipped time, and a wall time shown again after a fall-back
   * does not (node-cron's `match(date)` reads the wall clock, so it answers the other way round there).
   */
  matches(ms: number): boolean {
    const second = floorToSecond(ms);
    return this.next(second - MS_PER_SECOND) === second;
  }
}
