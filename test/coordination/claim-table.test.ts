import { describe, expect, it } from 'vitest';
import { ClaimTable } from '../../src/coordination/claim-table.js';

const FIRE = 'job:2026-01-01T00:00:00.000Z';

describe('ClaimTable', () => {
  it('lets the first claim of a fire win until its lease ends, then lets it be claimed again', () => {
    const table = new ClaimTable<string>();
    expect(table.claim(FIRE, 30_000, 1000, () => 'worker-1')).toEqual({ won: true, value: 'worker-1' });
    expect(table.claim(FIRE, 30_000, 1001, () => 'worker-2')).toEqual({ won: false, value: 'worker-1' });
    expect(table.claim(FIRE, 30_000, 30_999, () => 'worker-3')).toEqual({ won: false, value: 'worker-1' });
    expect(table.claim(FIRE, 30_000, 31_000, () => 'worker-4')).toEqual({ won: true, value: 'worker-4' });
    expect(table.claim(FIRE, 30_000, 31_001, () => 'worker-5')).toEqual({ won: false, value: 'worker-4' });
  });

  it('keeps claims of different fires apart', () => {
    const table = new ClaimTable<string>();
    expect(table.claim('a:1', 1000, 0, () => 'x')).toEqual({ won: true, value: 'x' });
    expect(table.claim('a:2', 1000, 0, () => 'y')).toEqual({ won: true, value: 'y' });
    expect(table.claim('b:1', 1000, 0, () => 'z')).toEqual({ won: true, value: 'z' });
  });

  it('keeps memory bounded: expired claims are dropped as new ones come in', () => {
    const table = new ClaimTable();
    for (let i = 0; i < 100_000; i++) table.claim(`job:${i}`, 1000, i * 10, () => true);
    // Only claims from the last second (100 of them) are alive; the table holds a small multiple of that.
    expect(table.size).toBeLessThan(400);
  });
});
