import { describe, expect, it } from 'vitest';
import { defaultElectionTimeout, planFire } from '../../src/engine/plan.js';

// Fires every 1000 ms; instants are plain numbers so the clock is whatever the test says.
const everySecond = (after: number) => Math.floor(after / 1000) * 1000 + 1000;

describe('planFire', () => {
  it('runs a fire that is due and on time', () => {
    expect(planFire(5000, 5001, 1000, everySecond)).toEqual({ missed: [], run: 5000, next: 6000, truncated: false });
  });

  it('runs nothing on an early wake-up and keeps waiting for the same fire', () => {
    expect(planFire(5000, 4990, 1000, everySecond)).toEqual({ missed: [], next: 5000, truncated: false });
  });

  it('reports every fire that can no longer run in time, and runs the one still within tolerance', () => {
    expect(planFire(5000, 8400, 1000, everySecond)).toEqual({ missed: [5000, 6000, 7000], run: 8000, next: 9000, truncated: false });
  });

  it('never runs a fire once the next one is due, even within tolerance', () => {
    const everyHalfSecond = (after: number) => Math.floor(after / 500) * 500 + 500;
    expect(planFire(5000, 5600, 1000, everyHalfSecond)).toEqual({ missed: [5000], run: 5500, next: 6000, truncated: false });
  });

  it('misses a fire later than the tolerance with nothing else due', () => {
    const hourly = (after: number) => Math.floor(after / 3_600_000) * 3_600_000 + 3_600_000;
    expect(planFire(3_600_000, 3_600_000 + 1500, 1000, hourly)).toEqual({ missed: [3_600_000], next: 7_200_000, truncated: false });
  });

  it('honours a zero tolerance only for a wake-up exactly on time', () => {
    expect(planFire(5000, 5000, 0, everySecond).run).toBe(5000);
    expect(planFire(5000, 5001, 0, everySecond)).toEqual({ missed: [5000], next: 6000, truncated: false });
  });

  it('stops listing after maxMissed and resumes at the first fire still within tolerance (a suspend of a day)', () => {
    const day = 86_400_000;
    const plan = planFire(5000, 5000 + day + 200, 1000, everySecond, 10);
    expect(plan.missed).toEqual([5000, 6000, 7000, 8000, 9000, 10_000, 11_000, 12_000, 13_000, 14_000]);
    expect(plan.truncated).toBe(true);
    expect(plan.run).toBe(5000 + day);
    expect(plan.next).toBe(6000 + day);
  });

  it('ends with no next fire when the expression has none left', () => {
    const once = (after: number) => (after < 5000 ? 5000 : null);
    expect(planFire(5000, 5010, 1000, once)).toEqual({ missed: [], run: 5000, next: null, truncated: false });
    expect(planFire(5000, 9000, 1000, once)).toEqual({ missed: [5000], next: null, truncated: false });
  });
});

describe('defaultElectionTimeout', () => {
  it('is half the period for short periods, bounded to [100, 5000] ms', () => {
    expect(defaultElectionTimeout(0, 1000)).toBe(500);
    expect(defaultElectionTimeout(0, 100)).toBe(100);
    expect(defaultElectionTimeout(0, 86_400_000)).toBe(5000);
    expect(defaultElectionTimeout(0, null)).toBe(5000);
  });
});
