import type { CronFields } from './cron-fields.js';

/** Bits 1-12 of `CronFields.months`. */
const EVERY_MONTH = 0x1ffe;
/** Every UTC offset in use is a whole number of quarter hours (Nepal +05:45, Eucla +08:45, Marquesas -09:30). */
const QUARTER_HOUR = 15;

/**
 * Whether the fields fire at the same instants whatever time zone reads them: every day of every month, every hour,
 * at minutes that repeat each quarter hour (`*`, `*\/5`, `*\/15`, `0,15,30,45`). A zone then changes no slot, not
 * even across DST changes (it may only skip the fires of a wall time shown twice); anything else does.
 */
export function firesAlikeInEveryZone(fields: CronFields): boolean {
  if (fields.months !== EVERY_MONTH || !fields.dayOfMonth.everyDay || !fields.dayOfWeek.everyDay) return false;
  if (fields.hour.values.length !== 24) return false;
  return fields.minute.values.every((minute) => {
    const shifted = (minute + QUARTER_HOUR) % 60;
    return fields.minute.next[shifted] === shifted;
  });
}
