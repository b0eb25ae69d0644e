import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { nameOfKey, slotOfKey } from '../ipc/protocol.js';
import type { Logger } from '../types.js';
import type { ClaimAnswer, ClaimRequest, FireBackend, FireEnd, TaskState, Trigger } from './records/backend.js';
import {
  DEFAULT_HISTORY_LIMIT,
  resolveRetention,
  type FireRecord,
  type HistoryOptions,
  type Holder,
  type RetentionOptions,
} from './records/fire-record.js';
import { claim } from './redis/claim.js';
import { redisCommands, type RedisClientLike, type RedisCommands } from './redis/client.js';
import { addTrigger, claimFires, endFires, readHistory, readTaskState, readTriggers, renewFire, setPaused } from './redis/records-script.js';
import { resolveWaitForReplicas, type WaitForReplicasOptions } from './redis/replica-wait.js';

export type { IoRedisClientLike, NodeRedisClientLike, NodeRedisPipelineLike, RedisClientLike } from './redis/client.js';
export type { WaitForReplicasOptions } from './redis/replica-wait.js';

export interface ClockCheckOptions {
  /** Largest tolerated |offset| between this process's clock and Redis `TIME`, in ms. Default 1000. */
  thresholdMs?: number;
  /** Receives the warning. Default `console`. */
  logger?: Logger;
}

export interface RedisLockCoordinatorOptions {
  /**
   * Prepended to every key; default `'fleetcron:'`. Give each app sharing a Redis its own prefix. An ioredis
   * `keyPrefix` set on the client applies on top of it (`keyPrefix + prefix + key`).
   */
  prefix?: string;
  /**
   * On first use, compare this process's clock with Redis `TIME` and warn once when it is off by more than
   * `thresholdMs`. `true` takes the defaults.
   */
  clockCheck?: boolean | ClockCheckOptions;
  /** The local clock the clock check reads, default `Date.now`; for tests and skew simulation. */
  now?: () => number;
  /**
   * Make each claim wait (Redis `WAIT`) until `count` replicas have it, for at most `timeoutMs`; a won claim that
   * fewer acknowledged rejects, so the fire is skipped as `coordinator-error` rather than risk a failover losing the
   * claim and electing the fire again. One more command per claim, pipelined with it. Off by default.
   */
  waitForReplicas?: WaitForReplicasOptions;
  /**
   * How many fire records to keep per task: the last `perTask` (default 1000), none claimed more than `maxAgeMs` ago
   * (default 7 days). A record whose lease has not passed is kept whatever the limits; each claim prunes a few.
   */
  retention?: RetentionOptions;
}

/**
 * Elects one process per fire across a fleet through Redis, and keeps a record of every fire it elects (DESIGN §8):
 * a `FireBackend`. `claim()` claims a batch of fires with one Lua script call, which for each fire marks the task's
 * lapsed records lost, wins iff the fire has no record yet (or its record carries this claim's id: a resend after a
 * lost reply), and then writes the record with the task's next fencing token and prunes old records. Leases are
 * timed by the Redis server's clock (`TIME`), so hosts whose clocks differ agree on them.
 *
 * `shouldRun(key, ttlMs)`, the plain `RunCoordinator` call, claims the fire of a fleetcron key (`${name}:${ISO}`) as
 * `holder`, with `${token}:${n}` as its claim id. Any other key is claimed for its lease only: one script sets
 * `<prefix><key>` to `${token}:${n}` with a lease of `ttlMs` unless the key exists, and wins iff it set it, or the key
 * already holds this very claim's value.
 *
 * `trigger(task)` adds a member to one key shared by every task, `<prefix>triggers` (so `triggers()` is one call on a
 * Cluster too; keep `triggers` itself out of the lease-only keys), stamped by Redis `TIME` and kept a minute.
 *
 * A fire's claim is never deleted on completion (hence no `onComplete`): a record stays until retention drops it, a
 * lease-only key expires with its lease. A replica that reaches the same fire later (clock skew, a GC pause,
 * event-loop lag) must still find it: node-cron's published Redis coordinator deletes the key when the run ends, so a
 * late replica claims the fire again and runs it twice. Keep the lease (`distributedLease`) of lease-only keys longer
 * than the worst lateness between replicas.
 *
 * Redis errors (connection refused, NOAUTH, ...) reject; the scheduler skips the fire as `coordinator-error`.
 * By default both clients queue commands while disconnected and keep reconnecting, so `shouldRun` hangs until the
 * scheduler's `electionTimeout` rather than failing (ioredis gives up after 10 to 75 s depending on its version,
 * node-redis never); ioredis also resends a claim whose reply the dropped connection lost, which then wins as
 * if the reply had arrived. To fail fast, give the coordinator a client of its own, configured so:
 * - ioredis: `new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 })`. The first option rejects
 *   commands while disconnected (also before the first `ready` event, so wait for it before starting tasks); the
 *   second rejects a claim in flight when the connection drops rather than resending it after a reconnect. For a
 *   `Cluster`, set `enableOfflineQueue: false` and put `maxRetriesPerRequest: 0` in its `redisOptions`.
 * - node-redis: `createClient({ disableOfflineQueue: true })`, connected before use, with an `error` listener
 *   (node-redis rethrows connection errors from its event emitter when none listens).
 */
export class RedisLockCoordinator implements FireBackend {
  /** Holds the fires this coordinator claims through `shouldRun`; `incarnation` is drawn at construction. */
  readonly holder: Holder = { host: hostname(), pid: process.pid, incarnation: randomBytes(4).toString('hex') };
  /** Names this coordinator (`host:pid:incarnation`); the value (or claim id) of its n-th claim is `${token}:${n}`. */
  readonly token = `${this.holder.host}:${this.holder.pid}:${this.holder.incarnation}`;
  private readonly redis: RedisCommands;
  private readonly prefix: string;
  private readonly now: () => number;
  private readonly clockCheck: Required<ClockCheckOptions> | undefined;
  private readonly waitForReplicas: WaitForReplicasOptions | undefined;
  private readonly retention: Required<RetentionOptions>;
  private clockCheckStarted = false;
  private claims = 0;

  constructor(client: RedisClientLike, options: RedisLockCoordinatorOptions = {}) {
    this.redis = redisCommands(client);
    this.prefix = options.prefix ?? 'fleetcron:';
    this.now = options.now ?? Date.now;
    this.clockCheck = resolveClockCheck(options.clockCheck);
    this.waitForReplicas = resolveWaitForReplicas(options.waitForReplicas);
    this.retention = resolveRetention('RedisLockCoordinator', options.retention);
  }

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    checkPositiveInteger('ttlMs', ttlMs, 'milliseconds');
    const value = `${this.token}:${++this.claims}`;
    const slot = slotOfKey(key);
    if (slot === undefined) {
      this.startClockCheckOnce();
      return claim(this.redis, this.prefix + key, value, ttlMs, this.waitForReplicas);
    }
    const [answer] = await this.claim([{ task: nameOfKey(key), slot, leaseMs: ttlMs, holder: this.holder, claimId: value }]);
    return answer!.won;
  }

  async claim(requests: readonly ClaimRequest[]): Promise<ClaimAnswer[]> {
    for (const { slot, leaseMs } of requests) {
      checkPositiveInteger('leaseMs', leaseMs, 'milliseconds');
      if (!Number.isSafeInteger(slot)) throw new RangeError(`RedisLockCoordinator: slot must be an integer (epoch milliseconds), got ${String(slot)}`);
    }
    if (requests.length === 0) return [];
    this.startClockCheckOnce();
    return claimFires(this.redis, this.prefix, requests, this.retention, this.waitForReplicas);
  }

  async renew(task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
    checkPositiveInteger('leaseMs', leaseMs, 'milliseconds');
    return renewFire(this.redis, this.prefix, task, slot, fencingToken, leaseMs);
  }

  async end(ends: readonly FireEnd[]): Promise<boolean[]> {
    return ends.length === 0 ? [] : endFires(this.redis, this.prefix, ends);
  }

  async history(task: string, { limit = DEFAULT_HISTORY_LIMIT }: HistoryOptions = {}): Promise<FireRecord[]> {
    return readHistory(this.redis, this.prefix, task, limit);
  }

  async pause(task: string): Promise<void> {
    await setPaused(this.redis, this.prefix, task, true);
  }

  async resume(task: string): Promise<void> {
    await setPaused(this.redis, this.prefix, task, false);
  }

  async taskState(task: string): Promise<TaskState> {
    return readTaskState(this.redis, this.prefix, task);
  }

  async trigger(task: string): Promise<number> {
    return addTrigger(this.redis, this.prefix, task);
  }

  async triggers(since: number): Promise<Trigger[]> {
    return readTriggers(this.redis, this.prefix, since);
  }

  /**
   * Measures this process's clock against Redis `TIME`: positive when the local clock is ahead. The reading is
   * taken half-way through the round trip, so it is accurate to about half of it.
   */
  async checkClock(): Promise<number> {
    const before = this.now();
    const redisMs = await this.redis.timeMs();
    const after = this.now();
    return Math.round((before + after) / 2 - redisMs);
  }

  // Runs beside the claim rather than before it, so a claim stays one round trip. A failed check (Redis down, which
  // the claim reports anyway) is retried on the next use.
  private startClockCheckOnce(): void {
    if (!this.clockCheck || this.clockCheckStarted) return;
    const { thresholdMs, logger } = this.clockCheck;
    this.clockCheckStarted = true;
    this.checkClock().then(
      (offsetMs) => {
        if (Math.abs(offsetMs) <= thresholdMs) return;
        logger.warn(
          `fleetcron: this process's clock is ${Math.abs(offsetMs)} ms ${offsetMs > 0 ? 'ahead of' : 'behind'} Redis TIME ` +
            `(threshold ${thresholdMs} ms). Replicas reach each fire at different moments: the fire's record keeps a late ` +
            'one from running it again, but runs start that far apart. Synchronise the clocks (NTP).',
        );
      },
      (error: unknown) => {
        this.clockCheckStarted = false;
        logger.debug('fleetcron: could not compare the clock with Redis TIME', error);
      },
    );
  }
}

function resolveClockCheck(option: boolean | ClockCheckOptions | undefined): Required<ClockCheckOptions> | undefined {
  if (!option) return undefined;
  const settings: ClockCheckOptions = option === true ? {} : option;
  const { thresholdMs = 1000, logger = console } = settings;
  if (!(thresholdMs >= 0 && Number.isFinite(thresholdMs))) {
    throw new RangeError(`RedisLockCoordinator: clockCheck.thresholdMs must be a non-negative number, got ${String(thresholdMs)}`);
  }
  return { thresholdMs, logger };
}

function checkPositiveInteger(name: string, value: number, unit: string): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`RedisLockCoordinator: ${name} must be a positive integer (${unit}), got ${String(value)}`);
  }
}
