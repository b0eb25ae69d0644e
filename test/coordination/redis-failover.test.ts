// A primary and a replica on 127.0.0.1. The replication link runs through a TCP proxy so that a partition is
// exact: SIGSTOPping the replica is not, since the claim still lands in its socket buffer and is applied on SIGCONT.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RedisLockCoordinator, type RedisClientLike, type RedisLockCoordinatorOptions } from '../../src/coordination/redis.js';
import { monitorCommands, requireRedis, startRedisServer, uniqueTestPrefix, type RedisServer } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const available = await requireRedis();
const FIRE = 'report:2026-01-01T00:00:00.000Z';
const waitForReplicas = { count: 1, timeoutMs: 200 };

interface Flavour {
  name: string;
  /** A connected client with the fail-fast settings the README recommends, and how to close it. */
  open(port: number): Promise<{ client: RedisClientLike; close(): unknown }>;
}

const flavours: Flavour[] = [
  {
    name: 'ioredis',
    async open(port) {
      const client = new Redis(port, '127.0.0.1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.disconnect() };
    },
  },
  {
    name: 'node-redis',
    async open(port) {
      const client = createClient({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: true });
      client.on('error', () => {});
      await client.connect();
      return { client, close: () => client.isOpen && client.destroy() };
    },
  },
];

describe.skipIf(!available).each(flavours)('RedisLockCoordinator across a Redis failover, with $name', (flavour) => {
  const prefix = uniqueTestPrefix();
  const cleanups: Array<() => unknown> = [];
  let primary: RedisServer;
  let replica: RedisServer;
  let link: TcpProxy;
  let primaryAdmin: Redis;
  let replicaAdmin: Redis;

  const later = <T>(cleanup: () => unknown, value: T): T => (cleanups.push(cleanup), value);
  const coordinatorOn = async (server: RedisServer, options: RedisLockCoordinatorOptions = {}) => {
    const { client, close } = await flavour.open(server.port);
    return later(close, new RedisLockCoordinator(client, { prefix, ...options }));
  };
  /** The primary crashes and the replica is promoted, as Sentinel or a managed service would. */
  const failOver = async () => {
    await primary.stop('SIGKILL');
    await replicaAdmin.call('REPLICAOF', 'NO', 'ONE');
  };

  beforeEach(async () => {
    primary = later(() => primary.stop(), await startRedisServer());
    replica = later(() => replica.stop(), await startRedisServer());
    link = later(() => link.close(), await startTcpProxy(primary.port));
    primaryAdmin = later(() => primaryAdmin.disconnect(), new Redis(primary.port, '127.0.0.1', { lazyConnect: true }));
    replicaAdmin = later(() => replicaAdmin.disconnect(), new Redis(replica.port, '127.0.0.1', { lazyConnect: true }));
    for (const admin of [primaryAdmin, replicaAdmin]) admin.on('error', () => {});

    await primaryAdmin.config('SET', 'repl-diskless-sync-delay', '0'); // rather than wait 5 s for more replicas
    await replicaAdmin.call('REPLICAOF', '127.0.0.1', String(link.port));
    await vi.waitFor(
      async () => {
        expect(await replicaAdmin.info('replication')).toContain('master_link_status:up');
        expect(await primaryAdmin.info('replication')).toMatch(/slave0:.*state=online/);
      },
      { timeout: 10_000, interval: 50 },
    );
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('(control) without waitForReplicas, a claim the primary acknowledged but never replicated dies with it: the fire is elected twice', async () => {
    const onPrimary = await coordinatorOn(primary);
    link.partition();
    expect(await onPrimary.shouldRun(FIRE, 10_000)).toBe(true);

    await failOver();
    const onPromoted = await coordinatorOn(replica);
    expect(await onPromoted.shouldRun(FIRE, 10_000)).toBe(true);
  });

  it('with waitForReplicas, the claim no replica acknowledged fails closed, so the same failover elects the fire once', async () => {
    const onPrimary = await coordinatorOn(primary, { waitForReplicas });
    link.partition();
    await expect(onPrimary.shouldRun(FIRE, 10_000)).rejects.toThrow(
      /claim of .+ was acknowledged by 0 of the 1 replicas required \(waitForReplicas\.count\) within 200 ms/,
    );

    await failOver();
    const onPromoted = await coordinatorOn(replica);
    expect(await onPromoted.shouldRun(FIRE, 10_000)).toBe(true);
    // Had it waited too, the promoted primary, which has no replica of its own, would fail its claims closed as well.
    const waitingOnPromoted = await coordinatorOn(replica, { waitForReplicas });
    await expect(waitingOnPromoted.shouldRun(`${FIRE}:next`, 10_000)).rejects.toThrow(/acknowledged by 0 of the 1 replicas required/);
  });

  it('with a healthy replica, a claim costs one more command, WAIT, and the replica has the claim when it is won', async () => {
    const [winner, loser] = [await coordinatorOn(primary, { waitForReplicas }), await coordinatorOn(primary, { waitForReplicas })];
    // Each sends the records script's source once.
    expect(await winner.shouldRun('warm-up:2026-01-01T00:00:00.000Z', 10_000)).toBe(true);
    expect(await loser.shouldRun('warm-up-2:2026-01-01T00:00:00.000Z', 10_000)).toBe(true);
    const monitor = await monitorCommands(primary.port, { fromScripts: false });
    cleanups.push(() => monitor.stop());
    // MONITOR sees the commands sent once it has started; a PING shows when it has.
    await vi.waitFor(async () => {
      await primaryAdmin.ping();
      expect(monitor.commands.some(([name]) => name?.toUpperCase() === 'PING')).toBe(true);
    });

    expect(await winner.shouldRun(FIRE, 10_000)).toBe(true);
    expect(await loser.shouldRun(FIRE, 10_000)).toBe(false);
    // The fire's record, as the replica has it.
    const onReplica = new RedisLockCoordinator(replicaAdmin, { prefix });
    expect(await onReplica.history('report')).toEqual([expect.objectContaining({ slot: Date.parse('2026-01-01T00:00:00.000Z'), state: 'running', holder: winner.holder })]);
    await vi.waitFor(() => {
      // What the coordinators sent (ioredis sends names in lower case), not what the script ran inside Redis.
      const names = monitor.commands.map(([name]) => name?.toUpperCase()).filter((name) => name !== 'PING');
      expect(names).toEqual(['EVALSHA', 'WAIT', 'EVALSHA', 'WAIT']);
    });
  });
});
