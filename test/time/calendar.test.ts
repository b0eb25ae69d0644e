import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, daysInMonth, wallFromMs } from '../../src/time/calendar.js';

const DAY = 86_400_000;

describe('calendar arithmetic', () => {
  it('converts days and civil dates like Date, across four centuries either side of 1970', () => {
    fc.assert(
      fc.property(fc.integer({ min: -200_000, max: 200_000 }), (days) => {
        const date = new Date(days * DAY);
        const civil = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
        expect(civilFromDays(days)).toEqual(civil);
        expect(daysFromCivil(civil.year, civil.month, civil.day)).toBe(days);
      }),
      { numRuns: 5000 },
    );
  });

  it('reads wall ms like Date’s UTC getters, incl. the weekday and instants before 1970', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5e12, max: 5e12 }), (ms) => {
        const d = new Date(ms);
        expect(wallFromMs(ms)).toEqual({
          year: d.getUTCFullYear(),
          month: d.getUTCMonth() + 1,
          day: d.getUTCDate(),
          hour: d.getUTCHours(),
          minute: d.getUTCMinutes(),
          second: d.getUTCSeconds(),
          weekday: d.getUTCDay(),
        });
      }),
      { numRuns: 5000 },
    );
  });

  it('knows leap years', () => {
    expect([1900, 2000, 2024, 2025, 2100].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 29, 28, 28]);
    expect(daysInMonth(2025, 4)).toBe(30);
    expect(daysInMonth(2025, 12)).toBe(31);
  });
});
