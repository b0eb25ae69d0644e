import { hostName, randomUUID } from '../builtins.js';
import { nameOfKey, slotOfKey } from '../ipc/protocol.js';
import { claimAll } from './postgres/claim.js';
import { assertPool, type PgPoolLike } from './postgres/pool.js';
import { createSchema, postgresNames, type PostgresNames, type PostgresSchemaOptions } from './postgres/schema.js';
import { end, history, lease, renew, setPaused, statementsFor, taskState, trigger, triggers, type Statements } from './postgres/statements.js';
import type { ClaimAnswer, ClaimRequest, FireBackend, FireEnd, TaskState, Trigger } from './records/backend.js';
import { resolveRetention, type FireRecord, type Holder, type HistoryOptions, type RetentionOptions } from './records/fire-record.js';

export type { PgPoolClientLike, PgPoolLike, PgQuery, PgResultLike } from './postgres/pool.js';
export { postgresSchemaSql, type PostgresSchemaOptions } from './postgres/schema.js';

export interface PostgresRunCoordinatorOptions extends PostgresSchemaOptions {
  /** Records kept per task: the last `perTask`, none older than `maxAgeMs` (once its lease has passed). */
  retention?: RetentionOptions;
  /**
   * Create the tables and the claim function on first use (default). `false` when they were created beforehand, by
   * `postgresSchemaSql()` run as a migration, say: then the coordinator only reads and writes rows.
   */
  createSchema?: boolean;
}

/**
 * Elects one process per fire across a fleet through PostgreSQL, and keeps each fire's record: the claim that wins
 * a fire writes it (holder, fencing token, lease), its end completes it (outcome, times), and it stays until
 * retention drops it, so a fire that has a record is never claimed again. A running record whose lease passed
 * without an end is marked lost by the next claim of its task, on any host, which reports it.
 *
 * Each call is one statement, so one round trip: `claim` of a whole batch (one PL/pgSQL function call), `renew`,
 * `end`, `history`, `pause`, `resume`, `taskState`, `trigger`, `triggers`. Leases and triggers are timed by the
 * database's clock alone, so hosts whose clocks differ agree.
 * `shouldRun(key, ttlMs)`, the plain RunCoordinator call, claims the fire a key `${name}:${ISO}` names with this
 * coordinator's holder (this host, pid and an incarnation drawn at construction); any other key gets a lease only.
 *
 * PostgreSQL errors reject; the scheduler skips the fire as `coordinator-error`. With node-postgres' defaults a
 * server that does not answer makes calls hang until the scheduler's `electionTimeout` (neither connecting nor a
 * query has a time limit), and an idle connection that breaks emits `error` on the pool, which crashes the process
 * when nobody listens. To fail fast, give the coordinator a pool configured so:
 *   `new pg.Pool({ connectionTimeoutMillis: 2000, query_timeout: 2000, statement_timeout: 2000, keepAlive: true })`
 * and `pool.on('error', ...)`. `connectionTimeoutMillis` bounds connecting to a server that is down or unreachable;
 * `query_timeout` bounds, on the client, a statement whose reply does not come (the claim may have been made: the
 * fire then runs nowhere, and its record is reported lost once its lease passes); `statement_timeout` makes the
 * server give up a statement, rolled back, that waits too long (for the locks of a task, say). Keep them below
 * `electionTimeout`.
 */
export class PostgresRunCoordinator implements FireBackend {
  /** The holder `shouldRun` claims for. */
  readonly holder: Holder = { host: hostName(), pid: process.pid, incarnation: randomUUID() };
  private readonly pool: PgPoolLike;
  private readonly names: PostgresNames;
  private readonly sql: Statements;
  private readonly retention: Required<RetentionOptions>;
  private schema: Promise<void> | undefined;

  constructor(pool: PgPoolLike, options: PostgresRunCoordinatorOptions = {}) {
    assertPool(pool);
    this.pool = pool;
    this.names = postgresNames(options);
    this.sql = statementsFor(this.names);
    // Its record counts are PostgreSQL integers.
    this.retention = resolveRetention('PostgresRunCoordinator', options.retention, 2 ** 31 - 1);
    if (options.createSchema === false) this.schema = Promise.resolve();
  }

  /**
   * Creates the tables and the claim function unless they exist (or `createSchema: false`); every call does so
   * first. Await it at startup to find out there whether the database is usable.
   */
  ensureSchema(): Promise<void> {
    this.schema ??= createSchema(this.pool, this.names).catch((error: unknown) => {
      this.schema = undefined;
      throw error;
    });
    return this.schema;
  }

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
      throw new RangeError(`PostgresRunCoordinator: ttlMs must be a positive integer (milliseconds), got ${String(ttlMs)}`);
    }
    const slot = slotOfKey(key);
    await this.ensureSchema();
    if (slot === undefined) return lease(this.pool, this.sql, key, ttlMs);
    const [answer] = await claimAll(this.pool, this.sql, [{ task: nameOfKey(key), slot, leaseMs: ttlMs, holder: this.holder, claimId: randomUUID() }], this.retention);
    return answer!.won;
  }

  async claim(requests: readonly ClaimRequest[]): Promise<ClaimAnswer[]> {
    await this.ensureSchema();
    return claimAll(this.pool, this.sql, requests, this.retention);
  }

  async renew(task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
    await this.ensureSchema();
    return renew(this.pool, this.sql, task, slot, fencingToken, leaseMs);
  }

  async end(ends: readonly FireEnd[]): Promise<boolean[]> {
    if (ends.length === 0) return [];
    await this.ensureSchema();
    return end(this.pool, this.sql, ends);
  }

  async history(task: string, options?: HistoryOptions): Promise<FireRecord[]> {
    await this.ensureSchema();
    return history(this.pool, this.sql, task, options);
  }

  async pause(task: string): Promise<void> {
    await this.ensureSchema();
    await setPaused(this.pool, this.sql, task, true);
  }

  async resume(task: string): Promise<void> {
    await this.ensureSchema();
    await setPaused(this.pool, this.sql, task, false);
  }

  async taskState(task: string): Promise<TaskState> {
    await this.ensureSchema();
    return taskState(this.pool, this.sql, task);
  }

  async trigger(task: string): Promise<number> {
    await this.ensureSchema();
    return trigger(this.pool, this.sql, task);
  }

  async triggers(since: number): Promise<Trigger[]> {
    await this.ensureSchema();
    return triggers(this.pool, this.sql, since);
  }
}

