import { describe, expect, it } from 'vitest';
import { RecentCache } from '../../src/time/recent-cache.js';

describe('RecentCache', () => {
  it('forgets what was not used for two generations, however many keys pass through', () => {
    const cache = new RecentCache<number, string>(3);
    for (let i = 0; i < 100; i++) cache.set(i, `v${i}`);
    const kept = Array.from({ length: 100 }, (_, i) => i).filter((i) => cache.get(i) !== undefined);
    expect(kept.length).toBeLessThanOrEqual(6);
    expect(kept).toContain(99);
    expect(cache.get(0)).toBeUndefined();
  });

  it('keeps an entry that is used in every generation', () => {
    const cache = new RecentCache<string, number | null>(4);
    cache.set('hot', null);
    for (let i = 0; i < 1000; i++) {
      cache.set(`cold ${i}`, i);
      expect(cache.get('hot')).toBeNull();
    }
    expect(cache.get('cold 0')).toBeUndefined();
  });
});
