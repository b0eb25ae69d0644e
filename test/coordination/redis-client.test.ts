import { Cluster, Redis } from 'ioredis';
import { createClient, createClientPool, createCluster } from 'redis';
import { describe, expect, it, vi } from 'vitest';
import { RedisLockCoordinator, type NodeRedisPipelineLike } from '../../src/coordination/redis.js';

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
    [{ set: () => 'OK' }, /neither ioredis' status\/pipeline\/time nor node-redis' isOpen\/multi/],
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

// Stand-ins with each family's shape, to see exactly what is sent and to script the replies.
type IoReply = [Error | null, unknown];
type Queued = [string, ...unknown[]];

function fakeIoRedis(...execs: IoReply[][]) {
  const sent: Array<Array<Array<string | number>>> = [];
  return {
    sent,
    status: 'ready',
    pipeline: vi.fn((commands: Array<Array<string | number>>) => {
      sent.push(commands);
      return { exec: async () => execs.shift() ?? commands.map((): IoReply => [null, 1]) };
    }),
    time: vi.fn(async () => ['1767225600', '250000']),
  };
}

/** Each execAsPipeline() takes the next of `execs`: the replies, or what it throws. */
function fakeNodeRedis(time: () => Promise<unknown>, ...execs: Array<unknown[] | Error>) {
  const sent: Array<{ routing: string | undefined; queued: Queued[] }> = [];
  return {
    sent,
    isOpen: true,
    multi(routing?: string): NodeRedisPipelineLike {
      const queued: Queued[] = [];
      sent.push({ routing, queued });
      const pipeline: NodeRedisPipelineLike = {
        evalSha: (...args) => (queued.push(['evalSha', ...args]), pipeline),
        eval: (...args) => (queued.push(['eval', ...args]), pipeline),
        wait: (...args) => (queued.push(['wait', ...args]), pipeline),
        execAsPipeline: async () => {
          const next = execs.shift() ?? [0];
          if (next instanceof Error) throw next;
          return next;
        },
      };
      return pipeline;
    },
    time: vi.fn(time),
  };
}

const SHA1 = expect.stringMatching(/^[0-9a-f]{40}$/);
const SOURCE = expect.stringMatching(/redis\.call\('SET', KEYS\[1\], ARGV\[1\], 'PX', ARGV\[2\]\)/);
const noScript = () => new Error('NOSCRIPT No matching script. Please use EVAL.');

describe('RedisLockCoordinator commands', () => {
  it('claims with one script call per claim, by source first (which loads it), then by SHA1, in the argument style of each family', async () => {
    const io = fakeIoRedis();
    const viaIo = new RedisLockCoordinator(io, { prefix: 'app:' });
    expect(await viaIo.shouldRun('job:slot', 30_000)).toBe(true);
    expect(await viaIo.shouldRun('job:slot', 30_000)).toBe(true); // the fake answers 1 each time
    expect(io.sent).toEqual([
      [['eval', SOURCE, 1, 'app:job:slot', `${viaIo.token}:1`, '30000']],
      [['evalsha', SHA1, 1, 'app:job:slot', `${viaIo.token}:2`, '30000']],
    ]);

    const node = fakeNodeRedis(async () => ['1767225600', '0']);
    const viaNode = new RedisLockCoordinator(node);
    expect(await viaNode.shouldRun('job:slot', 30_000)).toBe(false);
    expect(node.sent).toEqual([
      { routing: 'fleetcron:job:slot', queued: [['eval', SOURCE, { keys: ['fleetcron:job:slot'], arguments: [`${viaNode.token}:1`, '30000'] }]] },
    ]);
    expect(io.time).not.toHaveBeenCalled();
    expect(node.time).not.toHaveBeenCalled();
  });

  it('sends the source again when Redis answers NOSCRIPT (a restart, a failover, SCRIPT FLUSH), then goes on by SHA1', async () => {
    const io = fakeIoRedis([[null, 1]], [[noScript(), null]], [[null, 1]]);
    const viaIo = new RedisLockCoordinator(io);
    for (const key of ['job:one', 'job:two', 'job:three']) expect(await viaIo.shouldRun(key, 1000)).toBe(true);
    expect(io.sent.map((commands) => commands.map((command) => command[0]))).toEqual([['eval'], ['evalsha'], ['eval'], ['evalsha']]);
    expect(io.sent[2]?.[0]?.[1]).toMatch(/redis\.call\('SET', KEYS\[1\], ARGV\[1\], 'PX', ARGV\[2\]\)/);

    // node-redis rejects the pipeline with the first error Redis answered.
    const node = fakeNodeRedis(async () => [], [1], noScript(), [1]);
    const viaNode = new RedisLockCoordinator(node);
    expect(await viaNode.shouldRun('job:one', 1000)).toBe(true);
    expect(await viaNode.shouldRun('job:two', 1000)).toBe(true);
    expect(node.sent.map(({ queued }) => queued.map((command) => command[0]))).toEqual([['eval'], ['evalSha'], ['eval']]);
  });

  it('rejects with the error Redis answered a claim with', async () => {
    const readonly = new Error("READONLY You can't write against a read only replica.");
    await expect(new RedisLockCoordinator(fakeIoRedis([[readonly, null]])).shouldRun('job:slot', 1000)).rejects.toBe(readonly);
    await expect(new RedisLockCoordinator(fakeNodeRedis(async () => [], readonly)).shouldRun('job:slot', 1000)).rejects.toBe(readonly);
  });

  describe('waitForReplicas', () => {
    const waitForReplicas = { count: 2, timeoutMs: 100 };

    it('pipelines a WAIT after the script, and wins once enough replicas acknowledged', async () => {
      const io = fakeIoRedis([[null, 1], [null, 2]]);
      expect(await new RedisLockCoordinator(io, { waitForReplicas }).shouldRun('job:slot', 1000)).toBe(true);
      expect(io.sent).toEqual([[['eval', SOURCE, 1, 'fleetcron:job:slot', expect.any(String), '1000'], ['wait', 2, 100]]]);

      const node = fakeNodeRedis(async () => [], [1, 3]);
      expect(await new RedisLockCoordinator(node, { waitForReplicas }).shouldRun('job:slot', 1000)).toBe(true);
      expect(node.sent[0]?.queued.map((command) => command[0])).toEqual(['eval', 'wait']);
      expect(node.sent[0]?.queued[1]).toEqual(['wait', 2, 100]);
    });

    it('rejects a won claim that fewer replicas acknowledged, and answers a lost one false whatever the count', async () => {
      const io = fakeIoRedis([[null, 1], [null, 1]], [[null, 0], [null, 0]]);
      const coordinator = new RedisLockCoordinator(io, { waitForReplicas });
      await expect(coordinator.shouldRun('job:slot', 1000)).rejects.toThrow(
        /claim of fleetcron:job:slot was acknowledged by 1 of the 2 replicas required \(waitForReplicas\.count\) within 100 ms/,
      );
      expect(await coordinator.shouldRun('job:slot', 1000)).toBe(false);
    });

    it('sends the claim again by source with its WAIT when the script is missing', async () => {
      const io = fakeIoRedis([[null, 1], [null, 2]], [[noScript(), null], [null, 2]], [[null, 1], [null, 2]]);
      const coordinator = new RedisLockCoordinator(io, { waitForReplicas });
      expect(await coordinator.shouldRun('job:one', 1000)).toBe(true);
      expect(await coordinator.shouldRun('job:two', 1000)).toBe(true);
      expect(io.sent.map((commands) => commands.map((command) => command[0]))).toEqual([
        ['eval', 'wait'],
        ['evalsha', 'wait'],
        ['eval', 'wait'],
      ]);
    });

    it.each([
      [{ count: 0, timeoutMs: 100 }, /waitForReplicas\.count must be a positive integer \(replicas\), got 0/],
      [{ count: 1.5, timeoutMs: 100 }, /waitForReplicas\.count must be a positive integer \(replicas\), got 1\.5/],
      [{ count: 1, timeoutMs: 0 }, /waitForReplicas\.timeoutMs must be a positive integer \(milliseconds; WAIT's 0 would block forever\), got 0/],
      [{ count: 1, timeoutMs: Number.POSITIVE_INFINITY }, /waitForReplicas\.timeoutMs must be a positive integer .*got Infinity/],
      [{ count: 1 }, /waitForReplicas\.timeoutMs must be a positive integer .*got undefined/],
    ])('refuses %o with a RangeError naming the option', (option, message) => {
      // @ts-expect-error: what a JavaScript caller could pass
      const construct = () => new RedisLockCoordinator(fakeIoRedis(), { waitForReplicas: option });
      expect(construct).toThrow(RangeError);
      expect(construct).toThrow(message);
    });

    it('refuses a waitForReplicas that is not an object', () => {
      // @ts-expect-error: what a JavaScript caller could pass
      expect(() => new RedisLockCoordinator(fakeIoRedis(), { waitForReplicas: 1 })).toThrow(/waitForReplicas must be an object \{ count, timeoutMs \}, got 1/);
    });
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
    const { time: _, ...withoutTime } = fakeNodeRedis(async () => []);
    const coordinator = new RedisLockCoordinator(withoutTime);
    await expect(coordinator.checkClock()).rejects.toThrow(/has no time\(\)/);
  });
});

describe('RedisLockCoordinator fire records commands', () => {
  const slot = Date.parse('2026-01-01T00:00:00.000Z');
  const key = 'job:2026-01-01T00:00:00.000Z';
  const RECORDS = expect.stringMatching(/redis\.call\('INCR', token_key\)/);
  const holding = JSON.stringify({ slot, state: 'running', holder: { host: 'h', pid: 1, incarnation: 'i' }, fencingToken: 3, claimedAt: 1, leaseUntil: 2, claimId: 'x' });
  const request = (task: string) => ({ task, slot, leaseMs: 1000, holder: { host: 'h', pid: 1, incarnation: 'i' }, claimId: `claim-${task}` });

  it("claims a fire's key with the records script: the task's eight keys, the retention, then the fire", async () => {
    const io = fakeIoRedis([[null, [[1, 7, 1]]]]);
    const coordinator = new RedisLockCoordinator(io, { prefix: 'app:', retention: { perTask: 10, maxAgeMs: 60_000 } });
    expect(await coordinator.shouldRun(key, 1000)).toBe(true);
    const keys = ['token', 'records', 'slots', 'order', 'running', 'paused', 'runs', 'buffered'].map((name) => `app:{job}:${name}`);
    const { host, pid, incarnation } = coordinator.holder;
    expect(io.sent).toEqual([[['eval', RECORDS, 8, ...keys, '10', '60000', '1', String(slot), '1000', host, String(pid), incarnation, `${coordinator.token}:1`, '', '']]]);
  });

  it('rejects a batch that won a fire fewer replicas acknowledged, naming it; answers a batch that won nothing whatever the count', async () => {
    const waitForReplicas = { count: 2, timeoutMs: 100 };
    const io = fakeIoRedis([[null, [[0, holding, ''], [1, 8, 1], [1, 9, 2]]], [null, 1]], [[null, [[0, holding, '']]], [null, 0]]);
    const coordinator = new RedisLockCoordinator(io, { waitForReplicas });
    await expect(coordinator.claim([request('a'), request('b'), request('c')])).rejects.toThrow(
      /the claim of b:2026-01-01T00:00:00\.000Z \(and 1 more fires of its batch\) was acknowledged by 1 of the 2 replicas required/,
    );
    expect(await coordinator.claim([request('a')])).toEqual([{ won: false, holder: { host: 'h', pid: 1, incarnation: 'i' }, lost: [] }]);
    expect(io.sent.map((commands) => commands.map((command) => command[0]))).toEqual([
      ['eval', 'wait'],
      ['evalsha', 'wait'],
    ]);
  });

  it('on a Cluster, sends one call per task of a batch (its keys share a slot), and answers in the order asked', async () => {
    const io = { ...fakeIoRedis([[null, [[1, 1, 1], [1, 2, 2]]]], [[null, [[0, holding, '']]]]), isCluster: true };
    const answers = await new RedisLockCoordinator(io).claim([request('a'), request('b'), { ...request('a'), slot: slot + 1000 }]);
    expect(answers.map((answer) => answer.won)).toEqual([true, false, true]);
    expect(io.sent.map(([command]) => [command![3], command!.length])).toEqual([
      ['fleetcron:{a}:token', 3 + 8 + 2 + 2 * 9],
      ['fleetcron:{b}:token', 3 + 8 + 2 + 9],
    ]);
  });
});
