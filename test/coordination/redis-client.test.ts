import { Cluster, Redis } from 'ioredis';
import { createClient, createClientPool, createCluster } from 'redis';
import { describe, expect, it, vi } from 'vitest';
import { RedisLockCoordinator } from '../../src/coordination/redis.js';

// None of these clients connects: recognising a client and validating options needs no server.
describe('RedisLockCoordinator construction', () => {
  it.each([
    ['an ioredis Redis', () => new Redis({ lazyConnect: true })],
    ['an ioredis Cluster', () => new Cluster([{ host: '127.0.0.1', port: 6379 }], { lazyConnect: true })],
    ['a node-redis client', () => createClient()],
    ['a node-redis cluster', () => createCluster({ rootNodes: [{ url: 'redis://127.0.0.1:6379' }] })],
    ['a node-redis pool', () => createClientPool()],
  ])('accepts %s', (_, client) => {
    expect(new RedisLockCoordinator(client())).toBeInstanceOf(RedisLockCoordinator);
  });

  it.each([
    [null, /got null/],
    [{}, /got an object \(Object\)/],
    [{ set: () => 'OK' }, /neither ioredis' status\/set\/time nor node-redis' isOpen\/set/],
    [Redis, /got a function \(Redis\); pass an instance/],
    [createClient, /got a function \(createClient\); pass an instance/],
  ])('refuses %o with a TypeError naming the problem', (client, message) => {
    // @ts-expect-error: what a JavaScript caller could pass
    const construct = () => new RedisLockCoordinator(client);
    expect(construct).toThrow(TypeError);
    expect(construct).toThrow(message);
  });

  it('refuses a threshold that is not a non-negative number', () => {
    const client = createClient();
    expect(() => new RedisLockCoordinator(client, { clockCheck: { thresholdMs: -1 } })).toThrow(RangeError);
    expect(() => new RedisLockCoordinator(client, { clockCheck: { thresholdMs: Number.NaN } })).toThrow(RangeError);
  });

  it('rejects (does not answer false) when a node-redis client was never connected', async () => {
    const coordinator = new RedisLockCoordinator(createClient());
    await expect(coordinator.shouldRun('job:2026-01-01T00:00:00.000Z', 1000)).rejects.toThrow(/closed/);
  });
});

// Stand-ins with each family's shape, to see exactly what is sent and to script failures.
function fakeIoRedis() {
  return { status: 'ready', set: vi.fn(async (..._args: unknown[]) => 'OK'), time: vi.fn(async () => ['1767225600', '250000']) };
}

function fakeNodeRedis(time: () => Promise<unknown>) {
  return { isOpen: true, set: vi.fn(async (..._args: unknown[]) => null), time: vi.fn(time) };
}

describe('RedisLockCoordinator commands', () => {
  it('claims with one SET NX PX per call, in the argument style of each family', async () => {
    const io = fakeIoRedis();
    const viaIo = new RedisLockCoordinator(io, { prefix: 'app:' });
    expect(await viaIo.shouldRun('job:slot', 30_000)).toBe(true);
    expect(io.set.mock.calls).toEqual([['app:job:slot', viaIo.token, 'PX', 30_000, 'NX']]);

    const node = fakeNodeRedis(async () => ['1767225600', '0']);
    const viaNode = new RedisLockCoordinator(node);
    expect(await viaNode.shouldRun('job:slot', 30_000)).toBe(false);
    expect(node.set.mock.calls).toEqual([['fleetcron:job:slot', viaNode.token, { NX: true, PX: 30_000 }]]);
    expect(io.time).not.toHaveBeenCalled();
    expect(node.time).not.toHaveBeenCalled();
  });

  it('reads TIME as [seconds, microseconds] or as the Date node-redis v4 returns', async () => {
    const at = (reply: unknown) => new RedisLockCoordinator(fakeNodeRedis(async () => reply), { now: () => 1_767_225_600_250 });
    expect(await new RedisLockCoordinator(fakeIoRedis(), { now: () => 1_767_225_600_250 }).checkClock()).toBe(0);
    expect(await at(['1767225600', '0']).checkClock()).toBe(250);
    expect(await at(new Date(1_767_225_601_000)).checkClock()).toBe(-750);
    await expect(at(['soon']).checkClock()).rejects.toThrow(/unexpected reply to TIME/);
  });

  it('retries a failed clock check on the next claim, then warns once', async () => {
    const logger = { info: vi.fn(), warn: vi.fn(), error: vi.fn(), debug: vi.fn() };
    const down = new Error('connect ECONNREFUSED');
    const node = fakeNodeRedis(vi.fn<() => Promise<unknown>>().mockRejectedValueOnce(down).mockResolvedValue(['1767225600', '0']));
    const coordinator = new RedisLockCoordinator(node, { now: () => 1_767_225_610_000, clockCheck: { logger } });

    await coordinator.shouldRun('job:1', 1000);
    await vi.waitFor(() => expect(logger.debug).toHaveBeenCalledWith(expect.stringMatching(/could not compare/), down));
    expect(logger.warn).not.toHaveBeenCalled();

    await coordinator.shouldRun('job:2', 1000);
    await vi.waitFor(() => expect(logger.warn).toHaveBeenCalledOnce());
    expect(logger.warn.mock.calls[0]?.[0]).toMatch(/clock is 10000 ms ahead of Redis TIME/);
    await coordinator.shouldRun('job:3', 1000);
    expect(node.time).toHaveBeenCalledTimes(2);
  });

  it('names a node-redis client without time() when the clock is checked', async () => {
    const coordinator = new RedisLockCoordinator({ isOpen: true, set: async () => 'OK' });
    await expect(coordinator.checkClock()).rejects.toThrow(/has no time\(\)/);
  });
});
