import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../../src/time/cron-schedule.js';
import { compileExpression } from '../../src/time/expression.js';
import { firesAlikeInEveryZone } from '../../src/time/zone-independence.js';

// Zones without DST, at whole, half and quarter hours from UTC: where a pattern's fires can move, they move here.
const ZONES = ['UTC', 'Asia/Tokyo', 'Asia/Kolkata', 'Asia/Kathmandu', 'Pacific/Marquesas', 'Australia/Eucla'];
// Before the end of a weekday (a Friday), of a month and of a year.
const STARTS = [Date.UTC(2025, 4, 2, 12), Date.UTC(2025, 5, 30, 12), Date.UTC(2025, 11, 31, 12)];

function firesAgreeInZones(pattern: string): boolean {
  const runs = (zone: string) => STARTS.map((from) => CronSchedule.of(pattern, zone).nextRuns(400, from).join()).join();
  const [first, ...others] = ZONES.map(runs);
  return others.every((other) => other === first);
}

describe('firesAlikeInEveryZone', () => {
  it.each([
    ['* * * * * *', true],
    ['30 * * * * *', true],
    ['* * * * *', true],
    ['*/5 * * * *', true],
    ['*/15 * * * *', true],
    ['0,15,30,45 * * * *', true],
    ['10-59/15 * * * *', true],
    ['*/10 * * * *', false],
    ['*/20 * * * *', false],
    ['*/30 * * * *', false],
    ['0 * * * *', false],
    ['0 3 * * *', false],
    ['* 0-11 * * *', false],
    ['*/5 * * * 1-5', false],
    ['* * 1 * *', false],
    ['* * * 1-6 *', false],
    ['* * L * *', false],
  ])('%s: %s, as its fires in zones at whole, half and quarter hours show', (pattern, alike) => {
    expect(firesAlikeInEveryZone(compileExpression(pattern))).toBe(alike);
    expect(firesAgreeInZones(pattern)).toBe(alike);
  });
});
