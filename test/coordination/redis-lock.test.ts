import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisLockCoordinator, type RedisClientLike } from '../../src/coordination/redis.js';
import type { Logger, RunCoordinator } from '../../src/types.js';
import { SHARED_REDIS_URL, deleteKeysUnder, requireRedis, startRedisServer, uniqueTestPrefix, type RedisServer } from '../support/redis-server.js';

const available = await requireRedis();
const runPrefix = uniqueTestPrefix();
const FIRE = 'report:2026-01-01T00:00:00.000Z';

// A fire's record stays until retention drops it: remove this run's, also those written under the default prefix.
afterAll(async () => {
  if (available) for (const prefix of [runPrefix, `fleetcron:{${runPrefix}`]) await deleteKeysUnder(prefix);
});

interface TestClient {
  client: RedisClientLike;
  /** Settles when the client is ready or has failed to connect. */
  connecting: Promise<unknown>;
  /** Errors the client emitted (connection, authentication). */
  errors: Error[];
  /** Reads a key directly, bypassing the coordinator. */
  get(key: string): Promise<string | null>;
  hget(key: string, field: string): Promise<string | null>;
  pttl(key: string): Promise<number>;
  close(): void;
}

interface Flavour {
  name: string;
  /** A client with the fail-fast settings the coordinator's docs recommend, unless `failFast` is false. */
  open(url: string, failFast: boolean): TestClient;
  /** A fail-fast client of a one-node cluster. */
  openCluster(port: number): Pick<TestClient, 'client' | 'connecting' | 'close'>;
}

const ioredis: Flavour = {
  name: 'ioredis',
  open(url, failFast) {
    const client = new Redis(url, { lazyConnect: true, ...(failFast && { enableOfflineQueue: false, maxRetriesPerRequest: 0 }) });
    const errors: Error[] = [];
    client.on('error', (error: Error) => errors.push(error));
    return {
      client,
      connecting: client.connect(),
      errors,
      get: (key) => client.get(key),
      hget: (key, field) => client.hget(key, field),
      pttl: (key) => client.pttl(key),
      close: () => client.disconnect(),
    };
  },
  openCluster(port) {
    const client = new Cluster([{ host: '127.0.0.1', port }], {
      lazyConnect: true,
      enableOfflineQueue: false,
      redisOptions: { maxRetriesPerRequest: 0 },
    });
    client.on('error', () => {});
    return { client, connecting: client.connect(), close: () => client.disconnect() };
  },
};

const nodeRedis: Flavour = {
  name: 'node-redis',
  open(url, failFast) {
    const client = createClient({ url, disableOfflineQueue: failFast });
    const errors: Error[] = [];
    client.on('error', (error: Error) => errors.push(error));
    return {
      client,
      connecting: client.connect(),
      errors,
      get: (key) => client.get(key),
      hget: (key, field) => client.hGet(key, field),
      pttl: (key) => client.pTTL(key),
      close: () => {
        if (client.isOpen) client.destroy();
      },
    };
  },
  openCluster(port) {
    const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${port}` }] });
    client.on('error', () => {});
    return {
      client,
      connecting: client.connect(),
      close: () => {
        if (client.isOpen) client.destroy();
      },
    };
  },
};

function spyLogger() {
  return { info: vi.fn<Logger['info']>(), warn: vi.fn<Logger['warn']>(), error: vi.fn<Logger['error']>(), debug: vi.fn<Logger['debug']>() };
}

describe.skipIf(!available).each([ioredis, nodeRedis])('RedisLockCoordinator with $name', (flavour) => {
  const prefix = `${runPrefix}${flavour.name}:`;
  const opened: Array<Pick<TestClient, 'close'>> = [];
  /** Opens a client that the test's end closes; waits until it is ready unless `ready` is false. */
  const open = async (url: string, { ready = true, failFast = true } = {}) => {
    const client = flavour.open(url, failFast);
    opened.push(client);
    // Waiting would hang on a server that refuses the client.
    if (ready) await client.connecting;
    else client.connecting.catch(() => {});
    return client;
  };
  /** A coordinator on its own connection, as another replica of the fleet would have. */
  const replica = async (options: ConstructorParameters<typeof RedisLockCoordinator>[1] = { prefix }) =>
    new RedisLockCoordinator((await open(SHARED_REDIS_URL)).client, options);

  afterEach(() => {
    for (const client of opened.splice(0)) client.close();
  });

  it('lets the first claim of a fire win and the other replicas lose it', async () => {
    const [a, b, c] = await Promise.all([replica(), replica(), replica()]);
    const key = `${FIRE}:first`;
    expect(await a.shouldRun(key, 10_000)).toBe(true);
    expect(await b.shouldRun(key, 10_000)).toBe(false);
    expect(await c.shouldRun(key, 10_000)).toBe(false);
    expect(await a.shouldRun(key, 10_000)).toBe(false);

    const inspector = await open(SHARED_REDIS_URL);
    expect(await inspector.get(prefix + key)).toBe(`${a.token}:1`);
    expect(a.token).toMatch(new RegExp(`^.+:${process.pid}:[0-9a-f]{8}$`));
  });

  it('elects exactly one of many concurrent claimants', async () => {
    const replicas = await Promise.all(Array.from({ length: 8 }, () => replica()));
    const key = `${FIRE}:concurrent`;
    const answers = await Promise.all(replicas.flatMap((r) => [r.shouldRun(key, 10_000), r.shouldRun(key, 10_000)]));
    expect(answers.filter(Boolean)).toHaveLength(1);
  });

  it('keeps the claim after the run completes, so a late replica still loses the fire', async () => {
    const [winner, late] = await Promise.all([replica(), replica()]);
    const key = `${FIRE}:kept`;
    expect(await winner.shouldRun(key, 10_000)).toBe(true);
    const asSeenByScheduler: RunCoordinator = winner;
    await asSeenByScheduler.onComplete?.(key);
    const inspector = await open(SHARED_REDIS_URL);
    expect(await inspector.get(prefix + key)).toBe(`${winner.token}:1`);
    expect(await inspector.pttl(prefix + key)).toBeGreaterThan(9_000);
    expect(await late.shouldRun(key, 10_000)).toBe(false);
  });

  it('lets the fire be claimed again once its lease has expired', async () => {
    const [first, second] = await Promise.all([replica(), replica()]);
    const key = `${FIRE}:expiring`;
    expect(await first.shouldRun(key, 150)).toBe(true);
    expect(await second.shouldRun(key, 150)).toBe(false);
    await sleep(250);
    expect(await second.shouldRun(key, 150)).toBe(true);
    expect(await first.shouldRun(key, 150)).toBe(false);
  });

  it('isolates apps by prefix, and defaults the prefix to fleetcron:', async () => {
    const [appA, appA2, appB, byDefault] = await Promise.all([
      replica({ prefix: `${prefix}app-a:` }),
      replica({ prefix: `${prefix}app-a:` }),
      replica({ prefix: `${prefix}app-b:` }),
      replica({}),
    ]);
    expect(await appA.shouldRun(FIRE, 10_000)).toBe(true);
    expect(await appB.shouldRun(FIRE, 10_000)).toBe(true);
    expect(await appA2.shouldRun(FIRE, 10_000)).toBe(false);

    const key = `${prefix}${FIRE}`; // unique to this run under the default prefix
    expect(await byDefault.shouldRun(key, 10_000)).toBe(true);
    // A fire's key names a task and a slot: the claim is the fire's record, under the task's hash tag.
    const inspector = await open(SHARED_REDIS_URL);
    const record = await inspector.hget(`fleetcron:{${prefix}report}:records`, String(Date.parse('2026-01-01T00:00:00.000Z')));
    expect(JSON.parse(record!)).toMatchObject({ claimId: `${byDefault.token}:1`, holder: byDefault.holder, state: 'running' });
  });

  it('rejects a lease that is not a positive integer, without touching Redis', async () => {
    const coordinator = await replica();
    for (const ttlMs of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      await expect(coordinator.shouldRun(`${FIRE}:bad-ttl`, ttlMs)).rejects.toThrow(RangeError);
    }
    const inspector = await open(SHARED_REDIS_URL);
    expect(await inspector.get(`${prefix}${FIRE}:bad-ttl`)).toBeNull();
  });

  describe('with a password', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer({ password: 'correct horse' });
    });
    afterAll(() => server?.stop());

    it('claims with the right password', async () => {
      const coordinator = new RedisLockCoordinator((await open(server.url)).client, { prefix });
      expect(await coordinator.shouldRun(FIRE, 10_000)).toBe(true);
      expect(await coordinator.shouldRun(FIRE, 10_000)).toBe(false);
    });

    it.each([
      ['a wrong password', (port: number) => `redis://:wrong@127.0.0.1:${port}`, /WRONGPASS/],
      // A fire's claim script has more than 10 arguments, which Redis refuses from an unauthenticated connection
      // before reading the command: node-redis sees that protocol error rather than NOAUTH.
      ['no password', (port: number) => `redis://127.0.0.1:${port}`, /NOAUTH|unauthenticated/],
    ])('rejects (never answers false) with %s', async (_, url, expected) => {
      const { client, errors } = await open(url(server.port), { ready: false });
      const coordinator = new RedisLockCoordinator(client, { prefix });
      // ioredis (and node-redis, for a wrong password) report the refusal as an error event, then refuse
      // commands while they retry; node-redis without a password connects and is refused on the claim itself.
      await vi.waitFor(async () => {
        const outcome = await coordinator.shouldRun(FIRE, 10_000).catch((error: unknown) => error);
        expect(outcome).toBeInstanceOf(Error);
        expect([outcome, ...errors].map(String).join('\n')).toMatch(expected);
      });
    });
  });

  describe('when Redis is down', () => {
    let server: RedisServer | undefined;
    afterEach(async () => {
      await server?.stop();
      server = undefined;
    });

    it('rejects at once with the fail-fast settings', async () => {
      server = await startRedisServer();
      const coordinator = new RedisLockCoordinator((await open(server.url)).client, { prefix });
      expect(await coordinator.shouldRun(`${FIRE}:up`, 10_000)).toBe(true);
      await server.stop();

      const started = performance.now();
      await expect(coordinator.shouldRun(`${FIRE}:down`, 10_000)).rejects.toThrow();
      expect(performance.now() - started).toBeLessThan(1_000);
    });

    // The clients queue the command and reconnect: ioredis 6 for about 75 s, node-redis indefinitely. (A
    // disconnect() while ioredis is reconnecting does not even settle it.)
    it('stays pending with the default settings (the scheduler times it out)', async () => {
      server = await startRedisServer();
      const { client, errors } = await open(server.url, { failFast: false });
      const coordinator = new RedisLockCoordinator(client, { prefix });
      await server.stop();
      // A command written before the client notices the closed socket is rejected with it; wait until it has.
      await vi.waitFor(() => expect(errors).not.toHaveLength(0));

      const claim = coordinator.shouldRun(`${FIRE}:down`, 10_000).then(
        () => 'resolved',
        () => 'rejected',
      );
      expect(await Promise.race([claim, sleep(500, 'pending')])).toBe('pending');
    });
  });

  it('claims through a cluster client', async () => {
    const server = await startRedisServer({ cluster: true });
    try {
      const [a, b] = [flavour.openCluster(server.port), flavour.openCluster(server.port)];
      opened.push(a, b);
      await Promise.all([a.connecting, b.connecting]);
      const [first, second] = [new RedisLockCoordinator(a.client, { prefix }), new RedisLockCoordinator(b.client, { prefix })];
      expect(await first.shouldRun(FIRE, 10_000)).toBe(true);
      expect(await second.shouldRun(FIRE, 10_000)).toBe(false);
      expect(Math.abs(await second.checkClock())).toBeLessThan(50);
    } finally {
      for (const client of opened.splice(0)) client.close();
      await server.stop();
    }
  });

  describe('clock check', () => {
    it('measures a small offset against a local Redis', async () => {
      const coordinator = await replica();
      expect(Math.abs(await coordinator.checkClock())).toBeLessThan(50);
    });

    it.each([
      [5_000, 'ahead of'],
      [-5_000, 'behind'],
    ])('warns once when the local clock is off by %i ms', async (skewMs, direction) => {
      const logger = spyLogger();
      const coordinator = await replica({
        prefix,
        now: () => Date.now() + skewMs,
        clockCheck: { thresholdMs: 1_000, logger },
      });
      expect(Math.abs((await coordinator.checkClock()) - skewMs)).toBeLessThan(50);
      expect(logger.warn).not.toHaveBeenCalled(); // checkClock itself only measures

      await Promise.all([coordinator.shouldRun(`${FIRE}:skew-1`, 10_000), coordinator.shouldRun(`${FIRE}:skew-2`, 10_000)]);
      await vi.waitFor(() => expect(logger.warn).toHaveBeenCalledTimes(1));
      expect(logger.warn.mock.calls[0]?.[0]).toMatch(new RegExp(`clock is (49|50)\\d\\d ms ${direction} Redis TIME \\(threshold 1000 ms\\)`));

      await coordinator.shouldRun(`${FIRE}:skew-3`, 10_000);
      await sleep(50);
      expect(logger.warn).toHaveBeenCalledTimes(1);
    });

    it('stays quiet within the threshold', async () => {
      const logger = spyLogger();
      const coordinator = await replica({ prefix, now: () => Date.now() + 300, clockCheck: { logger } });
      await coordinator.shouldRun(`${FIRE}:quiet`, 10_000);
      await sleep(100);
      expect(logger.warn).not.toHaveBeenCalled();
      expect(logger.debug).not.toHaveBeenCalled();
    });
  });
});
