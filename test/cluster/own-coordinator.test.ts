import { afterEach, describe, expect, it } from 'vitest';
import { Fixture, runsPerSlot } from '../support/processes.js';
import { deleteKeysUnder, requireRedis, SHARED_REDIS_URL, uniqueTestPrefix } from '../support/redis-server.js';

const redisUp = await requireRedis();
const prefix = uniqueTestPrefix();

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
  if (redisUp) await deleteKeysUnder(prefix); // fire records stay until retention drops them
});

describe.skipIf(!redisUp)('a worker whose primary does not serve elections', () => {
  it('uses the coordinator it set itself (node-cron 4.6 code unchanged): each fire runs once, none is a coordinator-error', async () => {
    const primary = new Fixture('own-coordinator-host.ts', { REDIS_URL: SHARED_REDIS_URL, REDIS_PREFIX: prefix });
    fixtures.push(primary);
    await primary.until((r) => new Set(r.filter((x) => x.type === 'run').map((x) => x.slot)).size >= 6, 30_000, '6 fires run');
    for (const [slot, n] of runsPerSlot(primary.reports)) expect(n, slot).toBe(1);
    expect(primary.of('skip').filter((s) => s.reason === 'coordinator-error')).toEqual([]);
  });
});
