// A claim whose reply is lost on a dropped connection: Redis executed it, the client never heard so.
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RedisLockCoordinator, type RedisClientLike } from '../../src/coordination/redis.js';
import { requireRedis, uniqueTestPrefix } from '../support/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const available = await requireRedis();
const FIRE = 'report:2026-01-01T00:00:00.000Z';

describe.skipIf(!available)('RedisLockCoordinator when the reply to a claim is lost', () => {
  const prefix = uniqueTestPrefix();
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function proxy(): Promise<TcpProxy> {
    const started = await startTcpProxy(6379);
    cleanups.push(() => started.close());
    return started;
  }

  async function ioredis(port: number, failFast: boolean): Promise<Redis> {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, ...(failFast && { enableOfflineQueue: false, maxRetriesPerRequest: 0 }) });
    client.on('error', () => {});
    cleanups.push(() => client.disconnect());
    await client.connect();
    return client;
  }

  async function nodeRedis(port: number, failFast: boolean) {
    const client = createClient({ url: `redis://127.0.0.1:${port}`, disableOfflineQueue: failFast });
    client.on('error', () => {});
    cleanups.push(() => client.isOpen && client.destroy());
    await client.connect();
    return client;
  }

  /** A rival replica's view, straight to Redis. */
  async function rival(): Promise<{ coordinator: RedisLockCoordinator; get(key: string): Promise<string | null> }> {
    const client = await ioredis(6379, true);
    return { coordinator: new RedisLockCoordinator(client, { prefix }), get: (key) => client.get(prefix + key) };
  }

  /** Claims `key` through the proxy, which cuts the connection between the claim and its reply. */
  async function claimWithLostReply(client: RedisClientLike, through: TcpProxy, key: string) {
    const coordinator = new RedisLockCoordinator(client, { prefix });
    const cut = through.cutAfterRequest(prefix + key);
    const outcome = coordinator.shouldRun(key, 10_000).then(
      (won) => ({ won }),
      (error: unknown) => ({ error }),
    );
    await cut;
    return { coordinator, outcome: await outcome };
  }

  it('ioredis with its defaults resends the claim after reconnecting, and the claimant still wins it', async () => {
    const through = await proxy();
    const key = `${FIRE}:ioredis-defaults`;
    const { coordinator, outcome } = await claimWithLostReply(await ioredis(through.port, false), through, key);
    expect(outcome).toEqual({ won: true });

    const { coordinator: other, get } = await rival();
    expect(await other.shouldRun(key, 10_000)).toBe(false);
    expect(await get(key)).toMatch(new RegExp(`^${coordinator.token}:\\d+$`));
  });

  it('ioredis with the fail-fast settings rejects the claim (coordinator-error) instead of resending it', async () => {
    const through = await proxy();
    const key = `${FIRE}:ioredis-fail-fast`;
    const { outcome } = await claimWithLostReply(await ioredis(through.port, true), through, key);
    expect(outcome).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/max retries per request/i) }) });
    // The claim did reach Redis: the fire runs nowhere, and the claimant says so.
    const { coordinator: other } = await rival();
    expect(await other.shouldRun(key, 10_000)).toBe(false);
  });

  it.each([
    ['its defaults', false],
    ['the fail-fast settings', true],
  ])('node-redis with %s rejects a claim in flight when the connection drops, and claims again after reconnecting', async (_, failFast) => {
    const through = await proxy();
    const key = `${FIRE}:node-redis-${String(failFast)}`;
    const client = await nodeRedis(through.port, failFast);
    const { coordinator, outcome } = await claimWithLostReply(client, through, key);
    expect(outcome).toEqual({ error: expect.objectContaining({ message: expect.stringMatching(/socket closed unexpectedly/i) }) });

    const { coordinator: other } = await rival();
    expect(await other.shouldRun(key, 10_000)).toBe(false);
    // The claim in flight was not resent: once reconnected, the same coordinator claims the next fire normally.
    await vi.waitFor(() => expect(client.isReady).toBe(true));
    expect(await coordinator.shouldRun(`${key}:next`, 10_000)).toBe(true);
  });
});
