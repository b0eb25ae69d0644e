import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { startRedisServer, type RedisServer } from '../support/redis-server.js';
import { arbiterApp, arbiterServing, fixture, logText, reportsOf, tsApp } from './helpers.js';

let redisServer: RedisServer;
let pm2: Pm2Harness;

beforeAll(async () => {
  redisServer = await startRedisServer();
  pm2 = await startPm2();
  await pm2.start([arbiterApp({ REDIS_URL: redisServer.url, FLEETCRON_REDIS_PREFIX: 'fc-test:' })]);
  await arbiterServing(pm2);
}, 30_000);

afterAll(async () => {
  await pm2?.teardown();
  await redisServer?.stop();
}, 30_000);

describe('the PM2 arbiter with REDIS_URL', () => {
  it('elects through Redis with one claim per key for all the instances of the host', async () => {
    onTestFailed(() => console.log(logText(pm2)));
    expect(pm2.lines.find((l) => l.text.includes('serving elections'))?.text).toContain(`coordinator: Redis at ${redisServer.url} (ioredis, key prefix 'fc-test:')`);
    const keys = ['report', 'cleanup', 'heartbeat'];
    await pm2.start([tsApp({ name: 'electors', script: fixture('elector.mts'), exec_mode: 'cluster', instances: 3, env: { KEYS: JSON.stringify(keys) } })]);
    const reports = await pm2.waitFor(() => {
      const r = reportsOf<{ results: { key: string; elected?: boolean; error?: string }[] }>(pm2, 'electors', 'results');
      return r.length === 3 && r;
    }, 20_000, '3 instances to report');
    const results = reports.flatMap((r) => r.results);
    expect(results.filter((r) => r.error)).toEqual([]);
    for (const key of keys) expect(results.filter((r) => r.key === key && r.elected), key).toHaveLength(1);

    const redis = new Redis(redisServer.url);
    try {
      // Claims are scoped by the app's namespace and name under the configured prefix, and the host sent one SET per
      // key, not one per instance.
      expect((await redis.keys('*')).sort()).toEqual(keys.map((key) => `fc-test:default/electors\u001f${key}`).sort());
      const stats = await redis.info('commandstats');
      expect(/cmdstat_set:calls=(\d+)/.exec(stats)?.[1]).toBe(String(keys.length));
    } finally {
      redis.disconnect();
    }
  }, 30_000);
});
