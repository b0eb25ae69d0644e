// Whole replicas — separate OS processes, each with its own Redis client — scheduling the same distributed task.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Fixture, type Report } from '../support/processes.js';
import { deleteKeysUnder, requireRedis, SHARED_REDIS_URL, startRedisServer, uniqueTestPrefix, type RedisServer } from '../support/redis-server.js';

const redisUp = await requireRedis();
const replicas: Fixture[] = [];
const prefixes = new Set<string>();
afterEach(async () => {
  await Promise.all(replicas.splice(0).map((r) => r.stop()));
  // Fire records stay until retention drops them.
  for (const prefix of prefixes) await deleteKeysUnder(prefix);
  prefixes.clear();
});

/** Starts `count` replicas of one app: they share a key prefix (one unique to the call unless `env` names one). */
function start(count: number, env: NodeJS.ProcessEnv): Fixture[] {
  const app = { PREFIX: uniqueTestPrefix(), ...env };
  prefixes.add(app.PREFIX!);
  const started = Array.from({ length: count }, () => new Fixture('redis-replica.ts', app));
  replicas.push(...started);
  return started;
}

const all = (fleet: Fixture[]): Report[] => fleet.flatMap((f) => f.reports);
const runsOf = (fleet: Fixture[], slot: string) => all(fleet).filter((r) => r.type === 'run' && r.slot === slot).length;

/** The fires every replica decided on (ran or skipped), once all of them were up. */
function decidedByAll(fleet: Fixture[]): string[] {
  const per = fleet.map((f) => new Set(f.reports.filter((r) => r.type === 'run' || r.type === 'skip').map((r) => r.slot as string)));
  return [...per[0]!].filter((slot) => per.every((s) => s.has(slot))).sort();
}

async function ready(fleet: Fixture[]): Promise<void> {
  await Promise.all(fleet.map((f) => f.until((r) => r.some((x) => x.type === 'ready'), 30_000, 'the replica to connect')));
}

describe.skipIf(!redisUp)('RedisLockCoordinator across OS processes', () => {
  for (const client of ['ioredis', 'node-redis']) {
    it(`runs every fire exactly once among 5 replicas (${client})`, async () => {
      const prefix = uniqueTestPrefix();
      const fleet = start(5, { REDIS_URL: SHARED_REDIS_URL, CLIENT: client, PREFIX: prefix });
      await ready(fleet);
      await fleet[0]!.until(() => decidedByAll(fleet).length >= 11, 30_000, '11 fires decided by all 5 replicas');
      const slots = decidedByAll(fleet).slice(0, -1); // the newest fire may still be finishing
      expect(slots.length).toBeGreaterThanOrEqual(10);
      for (const slot of slots) {
        expect(runsOf(fleet, slot), slot).toBe(1);
        const skips = all(fleet).filter((r) => r.type === 'skip' && r.slot === slot);
        expect(skips.map((s) => s.reason)).toEqual(['not-elected', 'not-elected', 'not-elected', 'not-elected']);
      }
    });
  }

  it('runs a fire once even when a replica reaches it 500 ms late and the job takes 10 ms', async () => {
    const prefix = uniqueTestPrefix();
    const fleet = start(2, { REDIS_URL: SHARED_REDIS_URL, PREFIX: prefix, RUN_MS: '10' });
    fleet.push(...start(1, { REDIS_URL: SHARED_REDIS_URL, PREFIX: prefix, RUN_MS: '10', CLOCK_OFFSET_MS: '-500' }));
    await ready(fleet);
    await fleet[0]!.until(() => decidedByAll(fleet).length >= 6, 30_000, '6 fires decided by all replicas');
    for (const slot of decidedByAll(fleet).slice(0, -1)) expect(runsOf(fleet, slot), slot).toBe(1);
    // The late replica did take part, and lost each time.
    expect(fleet[2]!.of('skip').filter((s) => s.reason === 'not-elected').length).toBeGreaterThanOrEqual(5);
  });

  it('(control) a coordinator that deletes the claim on completion, as node-cron 4.6 does, runs such fires twice', async () => {
    const prefix = uniqueTestPrefix();
    const env = { REDIS_URL: SHARED_REDIS_URL, PREFIX: prefix, RUN_MS: '10', RELEASE_ON_COMPLETE: '1' };
    const fleet = [...start(1, env), ...start(1, { ...env, CLOCK_OFFSET_MS: '-500' })];
    await ready(fleet);
    await fleet[0]!.until(() => decidedByAll(fleet).length >= 4, 30_000, '4 fires decided by both replicas');
    const twice = decidedByAll(fleet).filter((slot) => runsOf(fleet, slot) === 2);
    expect(twice.length).toBeGreaterThanOrEqual(3);
  });

  describe('when Redis goes away mid-run', () => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      server = await startRedisServer();
    });
    afterAll(async () => {
      await server?.stop();
    });

    for (const client of ['ioredis', 'node-redis']) {
      it(`skips each fire of the outage with coordinator-error, crashes nothing, and resumes by itself (${client})`, async () => {
        const fleet = start(2, { REDIS_URL: server!.url, CLIENT: client });
        await ready(fleet);
        await fleet[0]!.until(() => decidedByAll(fleet).length >= 2, 20_000, '2 fires before the outage');
        const port = server!.port;
        await server!.stop();
        const outageFrom = Date.now();
        await fleet[0]!.until(
          (r) => r.filter((x) => x.type === 'skip' && x.reason === 'coordinator-error' && Date.parse(x.slot as string) > outageFrom).length >= 3,
          20_000,
          '3 fires skipped with coordinator-error',
        );
        server = await startRedisServer({ port });
        const backFrom = Date.now() + 1000;
        await fleet[0]!.until(
          () => all(fleet).filter((x) => x.type === 'run' && Date.parse(x.slot as string) > backFrom).length >= 3,
          20_000,
          '3 runs after Redis came back',
        );

        expect(fleet.every((f) => f.alive)).toBe(true);
        const outage = all(fleet).filter((x) => Date.parse(x.slot as string) > outageFrom && Date.parse(x.slot as string) < backFrom - 1000);
        const outageSlots = new Set(outage.map((x) => x.slot));
        // Every fire of the outage was skipped loudly by both replicas, or (once Redis answered again) run once.
        for (const slot of outageSlots) {
          const entries = outage.filter((x) => x.slot === slot);
          const runs = entries.filter((x) => x.type === 'run').length;
          expect(runs, String(slot)).toBeLessThanOrEqual(1);
          if (runs === 0) expect(entries.map((x) => x.reason), String(slot)).toEqual(['coordinator-error', 'coordinator-error']);
        }
        for (const slot of decidedByAll(fleet).slice(0, -1)) expect(runsOf(fleet, slot), slot).toBeLessThanOrEqual(1);
      });
    }
  });
});
