import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { requireRedis, startRedisServer, type RedisServer } from '../support/redis-server.js';
import { arbiterApp, arbiterServing, demoApp, demoFires, demoLines, logText, type Fire } from './helpers.js';

const redisUp = await requireRedis();
const INSTANCES = 2;

let redisServer: RedisServer;
const hosts: Pm2Harness[] = [];

// Two PM2 daemons stand for two hosts: each runs the demo app (2 cluster instances) and an arbiter on one Redis.
beforeAll(async () => {
  if (!redisUp) return;
  redisServer = await startRedisServer();
  for (let i = 0; i < 2; i++) {
    const pm2 = await startPm2();
    hosts.push(pm2);
    await pm2.start([arbiterApp({ REDIS_URL: redisServer.url, FLEETCRON_REDIS_PREFIX: 'fleet:' })]);
    await arbiterServing(pm2);
    await pm2.start([demoApp(INSTANCES)]);
  }
}, 60_000);

afterAll(async () => {
  for (const pm2 of hosts) await pm2.teardown();
  await redisServer?.stop();
}, 60_000);

describe.runIf(redisUp)('PM2 on two hosts sharing Redis (two daemons, an arbiter each, 2 instances each)', () => {
  it('runs each fire exactly once across both hosts', async () => {
    onTestFailed(() => console.log(hosts.map(logText).join('\n---\n')));
    const [a, b] = hosts.map((pm2) => demoFires(demoLines(pm2), INSTANCES)) as [ReturnType<typeof demoFires>, ReturnType<typeof demoFires>];
    // Fires that both hosts have fully reported, each host's instances all answered.
    const both = (): Array<[Fire, Fire]> => {
      const onB = new Map(b.fires().filter(b.complete).map((f) => [f.slot, f]));
      return a.fires().filter(a.complete).flatMap((f) => (onB.has(f.slot) ? [[f, onB.get(f.slot)!] as [Fire, Fire]] : []));
    };
    // From the first fire that both hosts' instances had answers for (all up by then), every fire both reported.
    const answered = (f: Fire) => f.skipped.every((s) => s.reason === 'not-elected');
    const fires = await hosts[0]!.waitFor(() => {
      const all = both();
      const first = all.findIndex(([x, y]) => answered(x) && answered(y));
      return first >= 0 && all.length - first >= 8 && all.slice(first);
    }, 30_000, '8 fires reported by both hosts');

    for (const [onA, onB] of fires) {
      expect(onA.ran.length + onB.ran.length, onA.slot).toBe(1);
      expect([...onA.skipped, ...onB.skipped].map((s) => s.reason), onA.slot).toEqual(['not-elected', 'not-elected', 'not-elected']);
    }
    expect([...a.fires(), ...b.fires()].filter((f) => f.ran.length > 1)).toEqual([]);
  }, 60_000);
});
