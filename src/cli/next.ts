import { CronSchedule } from '../time/cron-schedule.js';
import { validateDetailed } from '../time/expression.js';
import { formatLocalIso, zoneOffsets } from '../time/zone.js';
import { CliError, EXIT_USAGE, messageOf } from './errors.js';

/** One fire as `next` prints it. */
export interface NextFire {
  /** The instant, UTC ISO. */
  instant: string;
  /** The wall time in `timezone`, with its offset (node-cron's `dateLocalIso`). */
  local: string;
  timezone: string;
}

/**
 * The next `count` fires of `expression` after `fromMs`, computed by the scheduler's own CronSchedule (so DST is
 * handled as tasks handle it). Throws a usage CliError with the validator's message, which names the field.
 */
export function nextFires(expression: string, timezone: string | undefined, count: number, fromMs = Date.now()): NextFire[] {
  const validation = validateDetailed(expression);
  if (!validation.valid) {
    const first = validation.errors[0];
    throw new CliError(`invalid cron expression ${JSON.stringify(expression)}: ${first?.message ?? 'invalid'}`, EXIT_USAGE);
  }
  let schedule: CronSchedule;
  try {
    zoneOffsets(timezone);
    schedule = CronSchedule.of(expression, timezone);
  } catch (error) {
    throw new CliError(messageOf(error), EXIT_USAGE);
  }
  const zone = timezone ?? new Intl.DateTimeFormat().resolvedOptions().timeZone;
  return schedule.nextRuns(count, fromMs).map((ms) => ({ instant: new Date(ms).toISOString(), local: formatLocalIso(ms, timezone), timezone: zone }));
}
