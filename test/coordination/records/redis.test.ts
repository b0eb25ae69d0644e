// RedisLockCoordinator as a FireBackend, against real Redis: the contract, then what only Redis has (its server
// clock, its script cache, lost replies, Cluster slots).
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClaimAnswer, ClaimRequest } from '../../../src/coordination/records/backend.js';
import { RedisLockCoordinator, type RedisClientLike, type RedisLockCoordinatorOptions } from '../../../src/coordination/redis.js';
import { deleteKeysUnder, monitorCommands, requireRedis, startRedisServer, uniqueTestPrefix, type RedisServer } from '../../support/redis-server.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { describeFireBackend } from './contract.js';

const available = await requireRedis();
const runPrefix = uniqueTestPrefix();
const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const HOUR = 3_600_000;

interface Opened {
  client: RedisClientLike;
  close(): unknown;
}

interface Flavour {
  name: string;
  /** A connected client with the fail-fast settings the README recommends (or the client's defaults). */
  open(port: number, options?: { failFast?: boolean }): Promise<Opened>;
  /** A connected client of a one-node cluster. */
  openCluster(port: number): Promise<Opened>;
}

const flavours: Flavour[] = [
  {
    name: 'ioredis',
    async open(port, { failFast = true } = {}) {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, ...(failFast && { enableOfflineQueue: false, maxRetriesPerRequest: 0 }) });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.disconnect() };
    },
    async openCluster(port) {
      const client = new Cluster([{ host: '127.0.0.1', port }], { lazyConnect: true, enableOfflineQueue: false, redisOptions: { maxRetriesPerRequest: 0 } });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.disconnect() };
    },
  },
  {
    name: 'node-redis',
    async open(port, { failFast = true } = {}) {
      const client = createClient({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: failFast });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.isOpen && client.destroy() };
    },
    async openCluster(port) {
      const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.isOpen && client.destroy() };
    },
  },
];

const holder = (host: string) => ({ host, pid: 1000, incarnation: `${host}-incarnation` });
const ask = (task: string, slot: number, who: string, leaseMs = 30_000): ClaimRequest => ({ task, slot, leaseMs, holder: holder(who), claimId: randomUUID() });
const tokenOf = (answer: ClaimAnswer | undefined) => {
  if (!answer?.won) throw new Error(`expected a won claim, got ${JSON.stringify(answer)}`);
  return answer.fencingToken;
};

afterAll(async () => {
  if (available) await deleteKeysUnder(runPrefix);
});

describe.skipIf(!available).each(flavours)('RedisLockCoordinator with $name', (flavour) => {
  const prefix = `${runPrefix}${flavour.name}:`;
  const shared: Opened[] = [];
  let stores = 0;
  beforeAll(async () => {
    shared.push(await flavour.open(6379), await flavour.open(6379));
  });
  afterAll(() => {
    for (const opened of shared.splice(0)) opened.close();
  });

  describeFireBackend(`RedisLockCoordinator (${flavour.name})`, () => ({
    hosts: [new RedisLockCoordinator(shared[0]!.client, { prefix }), new RedisLockCoordinator(shared[1]!.client, { prefix })],
    withRetention: async (perTask) => new RedisLockCoordinator(shared[0]!.client, { prefix: `${prefix}store-${++stores}:`, retention: { perTask } }),
  }));

  describe('Redis specifics', () => {
    const cleanups: Array<() => unknown> = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    });
    const host = (options: RedisLockCoordinatorOptions = {}, on = 0) => new RedisLockCoordinator(shared[on]!.client, { prefix, ...options });

    it("times leases by the Redis server's clock, so a host whose clock is an hour off agrees with the others", async () => {
      const realNow = Date.now;
      const [behind, ahead, onTime] = [host({ now: () => realNow() - HOUR }), host({ now: () => realNow() + HOUR }), host({}, 1)];
      const [t1, t2] = [`skew-${randomUUID()}`, `skew-${randomUUID()}`];
      const claimWithClock = async (offset: number, coordinator: RedisLockCoordinator, request: ClaimRequest) => {
        const spy = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + offset);
        try {
          return await coordinator.claim([request]);
        } finally {
          spy.mockRestore();
        }
      };

      const before = realNow();
      // By its own clock, the lease of the host behind would have ended an hour ago.
      const [won] = await claimWithClock(-HOUR, behind, ask(t1, SLOT, 'behind', 30_000));
      expect(won!.won).toBe(true);
      const [next] = await onTime.claim([ask(t1, SLOT + 1000, 'on-time')]);
      expect(next!.lost).toEqual([]);
      const record = (await onTime.history(t1)).find((r) => r.slot === SLOT);
      expect(record!.claimedAt).toBeGreaterThanOrEqual(before - 5_000);
      expect(record!.claimedAt).toBeLessThanOrEqual(realNow() + 5_000);
      expect(record!.leaseUntil - record!.claimedAt).toBe(30_000);
      expect(await behind.renew(t1, SLOT, tokenOf(won), 30_000)).toBe(true);

      // By its own clock, the lease of the host ahead would run for another hour.
      await claimWithClock(HOUR, ahead, ask(t2, SLOT, 'ahead', 100));
      await sleep(250);
      const [found] = await onTime.claim([ask(t2, SLOT + 1000, 'on-time')]);
      expect(found!.lost).toHaveLength(1);
      const lost = found!.lost[0]!;
      expect(lost).toMatchObject({ slot: SLOT, state: 'lost', holder: holder('ahead') });
      expect(lost.error!.message).toBe(`its lease ended at ${new Date(lost.leaseUntil).toISOString()} without an end from its holder`);
    });

    it('keeps the fencing token per task past retention: pruned records do not reset it', async () => {
      const coordinator = host({ retention: { perTask: 2 } });
      const t = `retained-${randomUUID()}`;
      const tokens: number[] = [];
      for (let i = 0; i < 5; i++) tokens.push(tokenOf((await coordinator.claim([ask(t, SLOT + i * 1000, 'a', 20)]))[0]));
      await sleep(100);
      tokens.push(tokenOf((await coordinator.claim([ask(t, SLOT + 5000, 'a', 20)]))[0]));
      expect(tokens).toEqual([1, 2, 3, 4, 5, 6]);
      expect((await coordinator.history(t, { limit: 100 })).map((r) => r.fencingToken)).toEqual([6, 5]);
    });

    it('refuses a lease or slot that is not an integer, and a retention that is not positive, without touching Redis', async () => {
      const coordinator = host();
      await expect(coordinator.claim([{ ...ask('bad', SLOT, 'a'), leaseMs: 0 }])).rejects.toThrow(/leaseMs must be a positive integer/);
      await expect(coordinator.claim([{ ...ask('bad', SLOT + 0.5, 'a') }])).rejects.toThrow(/slot must be an integer/);
      await expect(coordinator.renew('bad', SLOT, 1, -1)).rejects.toThrow(/leaseMs must be a positive integer/);
      expect(() => host({ retention: { perTask: 0 } })).toThrow(/retention\.perTask must be a positive integer \(records\), got 0/);
      expect(() => host({ retention: { maxAgeMs: 1.5 } })).toThrow(/retention\.maxAgeMs must be a positive integer \(milliseconds\)/);
      expect(await coordinator.history('bad')).toEqual([]);
    });

    // node-redis never resends a command in flight (redis-lost-reply.test.ts).
    it.runIf(flavour.name === 'ioredis')('a claim whose reply was lost, resent by ioredis after reconnecting, wins with the same token', async () => {
      const through = await startTcpProxy(6379);
      cleanups.push(() => through.close());
      const resending = await flavour.open(through.port, { failFast: false });
      cleanups.push(() => resending.close());
      const coordinator = new RedisLockCoordinator(resending.client, { prefix });
      const t = `lost-reply-${randomUUID()}`;
      const [before] = await coordinator.claim([ask(t, SLOT, 'a')]);

      const request = ask(t, SLOT + 1000, 'a');
      const cut = through.cutAfterRequest(request.claimId);
      const claiming = coordinator.claim([request]);
      await cut;
      const [resent] = await claiming;
      expect(resent).toEqual({ won: true, fencingToken: tokenOf(before) + 1, runs: 2, lost: [] });

      const rival = host({}, 1);
      expect((await rival.claim([ask(t, SLOT + 1000, 'b')]))[0]).toMatchObject({ won: false, holder: holder('a') });
      expect((await rival.history(t)).map((r) => [r.slot, r.fencingToken])).toEqual([
        [SLOT + 1000, tokenOf(before) + 1],
        [SLOT, tokenOf(before)],
      ]);
      // The token was drawn once: the next claim of the task has the next one.
      expect(tokenOf((await rival.claim([ask(t, SLOT + 2000, 'b')]))[0])).toBe(tokenOf(before) + 2);
    });

    it('on a Redis Cluster client, claims a batch spanning tasks with one call per task (a script cannot span slots), answered in order', async () => {
      const server = await startRedisServer({ cluster: true });
      cleanups.push(() => server.stop());
      const [a, b] = [await flavour.openCluster(server.port), await flavour.openCluster(server.port)];
      cleanups.push(() => a.close(), () => b.close());
      const admin = new Redis(server.port, '127.0.0.1');
      cleanups.push(() => admin.disconnect());
      const monitor = await monitorCommands(server.port, { fromScripts: false });
      cleanups.push(() => monitor.stop());
      await vi.waitFor(async () => {
        await admin.ping();
        expect(monitor.commands.some(([name]) => name?.toUpperCase() === 'PING')).toBe(true);
      });
      const [first, second] = [new RedisLockCoordinator(a.client, { prefix }), new RedisLockCoordinator(b.client, { prefix })];
      const [t1, t2, t3] = ['cluster-one', 'cluster-two', 'cluster-three'];

      await second.claim([ask(t2, SLOT, 'b')]);
      const answers = await first.claim([ask(t1, SLOT, 'a'), ask(t2, SLOT, 'a'), ask(t3, SLOT, 'a'), ask(t1, SLOT + 1000, 'a')]);
      expect(answers.map((answer) => answer.won)).toEqual([true, false, true, true]);
      expect(answers[1]).toMatchObject({ holder: holder('b') });
      expect((await second.history(t1)).map((r) => [r.slot, r.holder.host])).toEqual([
        [SLOT + 1000, 'a'],
        [SLOT, 'a'],
      ]);
      // Host a's claim calls (EVALSHA sha numkeys keys... perTask maxAgeMs, then 9 arguments per fire, the 4th its
      // holder's host): per call, its first key and how many fires it carried, sorted by key.
      const calls = monitor.commands
        .filter(([name]) => /^EVAL(SHA)?$/i.test(name!))
        .map(([, , keyCount, ...rest]) => [rest[0], rest.slice(Number(keyCount) + 2).filter((_, i) => i % 9 === 3)] as const)
        .filter(([, hosts]) => hosts.includes('a'))
        .map(([key, hosts]) => [key, hosts.length]);
      expect(calls.sort()).toEqual([
        [`${prefix}{${t1}}:token`, 2],
        [`${prefix}{${t3}}:token`, 1],
        [`${prefix}{${t2}}:token`, 1],
      ]);
    });

    it('on a Redis Cluster client, triggers of tasks in different slots go to one key, listed by one call', async () => {
      const server = await startRedisServer({ cluster: true });
      cleanups.push(() => server.stop());
      const [a, b] = [await flavour.openCluster(server.port), await flavour.openCluster(server.port)];
      cleanups.push(() => a.close(), () => b.close());
      const [first, second] = [new RedisLockCoordinator(a.client, { prefix }), new RedisLockCoordinator(b.client, { prefix })];
      const [t1, t2] = [`cluster-trigger-{one}-${randomUUID()}`, `cluster-trigger-{two}-${randomUUID()}`];
      const slot = await first.trigger(t1);
      await sleep(5);
      const later = await second.trigger(t2);
      expect(await second.triggers(slot - 1)).toEqual([{ task: t1, slot }, { task: t2, slot: later }]);
      expect((await first.claim([ask(t2, later, 'a')]))[0]!.won).toBe(true);
    });

    describe('on a private server', () => {
      let server: RedisServer;
      beforeAll(async () => {
        server = await startRedisServer();
      });
      afterAll(() => server?.stop());

      it('sends each script by source once, then by SHA1, and again by source after SCRIPT FLUSH; a batch of 100 fires is one command', async () => {
        const opened = await flavour.open(server.port);
        cleanups.push(() => opened.close());
        const admin = new Redis(server.port, '127.0.0.1');
        cleanups.push(() => admin.disconnect());
        const monitor = await monitorCommands(server.port);
        cleanups.push(() => monitor.stop());
        // MONITOR sees the commands sent once it has started; a PING shows when it has.
        await vi.waitFor(async () => {
          await admin.ping();
          expect(monitor.commands.some(([name]) => name?.toUpperCase() === 'PING')).toBe(true);
        });
        const coordinator = new RedisLockCoordinator(opened.client, { prefix });
        const [t1, t2] = ['batch-one', 'batch-two'];

        const [first] = await coordinator.claim([ask(t1, SLOT, 'a')]);
        const batch = Array.from({ length: 100 }, (_, i) => ask(i % 2 ? t2 : t1, SLOT + (i + 1) * 1000, 'a'));
        expect((await coordinator.claim(batch)).map((answer) => answer.won)).toEqual(batch.map(() => true));
        expect(await coordinator.renew(t1, SLOT, tokenOf(first), 30_000)).toBe(true);
        expect(await coordinator.renew(t1, SLOT, tokenOf(first), 30_000)).toBe(true);
        expect(await coordinator.end([{ task: t1, slot: SLOT, fencingToken: tokenOf(first), outcome: { state: 'succeeded', startedAt: SLOT, endedAt: SLOT + 1 } }])).toEqual([true]);
        expect(await coordinator.history(t2, { limit: 100 })).toHaveLength(50);
        const triggered = await coordinator.trigger(t1);
        await coordinator.trigger(t2);
        expect((await coordinator.triggers(triggered - 1)).map((x) => x.task)).toEqual([t1, t2]);
        await admin.script('FLUSH');
        expect((await coordinator.claim([ask(t1, SLOT - 1000, 'a')]))[0]!.won).toBe(true);

        // What the client sent, not what the scripts ran inside Redis (MONITOR shows both).
        const sent = () => monitor.commands.filter(([name]) => /^(EVAL|EVALSHA|SCRIPT)$/i.test(name!));
        await vi.waitFor(() => expect(sent()).toHaveLength(12));
        const names = sent().map(([name]) => name!.toUpperCase());
        expect(names).toEqual([
          'EVAL', 'EVALSHA', /* renew */ 'EVAL', 'EVALSHA', /* end */ 'EVAL', /* history */ 'EVAL',
          /* trigger */ 'EVAL', 'EVALSHA', /* triggers */ 'EVAL', 'SCRIPT', 'EVALSHA', 'EVAL',
        ]);
        // The batch: both tasks' 8 keys, the retention, then 9 arguments per fire, in one command.
        const [, sha1, keyCount, ...rest] = sent()[1]!;
        expect([sha1, keyCount, rest.length]).toEqual([expect.stringMatching(/^[0-9a-f]{40}$/), '16', 16 + 2 + 900]);
      });
    });
  });
});
