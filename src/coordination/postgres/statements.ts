import { TRIGGER_KEEP_MS, type FireEnd, type TaskState, type Trigger } from '../records/backend.js';
import { DEFAULT_HISTORY_LIMIT, type FireRecord, type HistoryOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, ms, prepared, recordJson, type Prepared } from './sql.js';

/** Every statement of a coordinator, one round trip and one transaction each. */
export interface Statements {
  claim: Prepared;
  renew: Prepared;
  end: Prepared;
  history: Prepared;
  lease: Prepared;
  pause: Prepared;
  resume: Prepared;
  taskState: Prepared;
  trigger: Prepared;
  triggers: Prepared;
}

/** The oldest slot a trigger may have and still be kept, on the database's clock. */
const KEPT_SINCE = `${NOW} - ${TRIGGER_KEEP_MS} * interval '1 millisecond'`;

export function statementsFor(n: PostgresNames): Statements {
  return {
    claim: prepared(`SELECT ${n.claim}($1::jsonb, $2, $3) AS answers`),
    renew: prepared(`UPDATE ${n.records} SET lease_until = ${NOW} + $4::bigint * interval '1 millisecond'
      WHERE task = $1 AND slot = ${at('$2::bigint')} AND fencing_token = $3 AND state = 'running' AND lease_until >= ${NOW}`),
    // A batch of ends in one statement; answers the positions of the ends it wrote. Its rows are locked by task, then
    // slot — the order in which a claim batch takes its tasks — so an end batch and a claim batch spanning the same
    // tasks do not deadlock.
    end: prepared(`WITH e AS (
        SELECT * FROM jsonb_to_recordset($1::jsonb) AS e(i int, task text, slot bigint, fencing_token bigint, state text,
          started_at float8, ended_at float8, error_name text, error_message text)),
      locked AS (
        SELECT r.task, r.slot FROM ${n.records} r JOIN e ON r.task = e.task AND r.slot = ${at('e.slot')} AND r.fencing_token = e.fencing_token
        ORDER BY r.task, r.slot FOR UPDATE OF r)
      UPDATE ${n.records} r SET state = e.state, started_at = ${at('e.started_at')}, ended_at = ${at('e.ended_at')},
        error_name = e.error_name, error_message = e.error_message, lease_until = least(r.lease_until, ${NOW})
      FROM e, locked
      WHERE r.task = locked.task AND r.slot = locked.slot AND r.task = e.task AND r.slot = ${at('e.slot')} AND r.fencing_token = e.fencing_token
      RETURNING e.i`),
    history: prepared(`SELECT ${recordJson('r')} AS record FROM ${n.records} r WHERE r.task = $1 ORDER BY r.slot DESC LIMIT $2`),
    // Won when the key is free or its lease has passed. Sweeps a few other expired leases on the way (skipping rows
    // another sweep has locked), so that keys used once do not pile up.
    lease: prepared(`WITH swept AS (
        DELETE FROM ${n.leases} WHERE key IN (
          SELECT key FROM ${n.leases} WHERE lease_until <= ${NOW} AND key <> $1 ORDER BY lease_until LIMIT 10 FOR UPDATE SKIP LOCKED))
      INSERT INTO ${n.leases} AS l (key, lease_until) VALUES ($1, ${NOW} + $2::bigint * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET lease_until = excluded.lease_until WHERE l.lease_until <= ${NOW}`),
    // A task not seen yet gets its row here, its counter at 0. Neither writes a row that already says so.
    pause: prepared(`INSERT INTO ${n.tasks} AS t (task, last_token, record_count, paused) VALUES ($1, 0, 0, true)
      ON CONFLICT (task) DO UPDATE SET paused = true WHERE NOT t.paused`),
    resume: prepared(`UPDATE ${n.tasks} SET paused = false WHERE task = $1 AND paused`),
    taskState: prepared(`SELECT jsonb_build_object('paused', t.paused, 'runs', t.runs) AS state FROM ${n.tasks} t WHERE t.task = $1`),
    // The clock is read once the lock is held, and the lock is kept until commit: triggers commit in the order of their
    // slots, so a reader that saw one has seen every earlier one, and listing after the last slot seen misses none.
    // (A WITH query calling a volatile function is not inlined: it is run once, each row before what is computed from it.)
    // Answers the slot, bumped off a whole second; a task's trigger in the same millisecond is the one already there.
    // Drops the triggers past keeping.
    trigger: prepared(`WITH locked AS (SELECT pg_advisory_xact_lock('${n.triggerLockKey}'::bigint)),
      asked AS (SELECT now_ms + (now_ms % 1000 = 0)::integer AS slot FROM (SELECT ${ms(NOW)} AS now_ms FROM locked) clock),
      dropped AS (DELETE FROM ${n.triggers} WHERE slot < ${KEPT_SINCE}),
      added AS (INSERT INTO ${n.triggers} (task, slot) SELECT $1, ${at('asked.slot')} FROM asked ON CONFLICT (task, slot) DO NOTHING)
      SELECT slot FROM asked`),
    // Compared as numbers, so that any JavaScript number works as `since` (infinities too; NaN lists nothing). Ties by
    // task in code point order, whatever the database's collation.
    triggers: prepared(`SELECT t.task, ${ms('t.slot')} AS slot FROM ${n.triggers} t
      WHERE ${ms('t.slot')} > $1::float8 AND t.slot >= ${KEPT_SINCE} ORDER BY t.slot, t.task COLLATE "C"`),
  };
}

export async function renew(pool: PgPoolLike, sql: Statements, task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
  const { rowCount } = await pool.query({ ...sql.renew, values: [task, slot, fencingToken, leaseMs] });
  return rowCount === 1;
}

export async function end(pool: PgPoolLike, sql: Statements, ends: readonly FireEnd[]): Promise<boolean[]> {
  const rows = ends.map(({ task, slot, fencingToken, outcome }, i) => {
    const [startedAt, error] =
      outcome.state === 'lost' ? [null, { name: 'LostFire', message: outcome.cause }] : [outcome.startedAt, outcome.state === 'failed' ? outcome.error : undefined];
    return { i, task, slot, fencing_token: fencingToken, state: outcome.state, started_at: startedAt, ended_at: outcome.endedAt, error_name: error?.name ?? null, error_message: error?.message ?? null };
  });
  const { rows: written } = await pool.query({ ...sql.end, values: [JSON.stringify(rows)] });
  const positions = new Set(written.map((row) => (row as { i: number }).i));
  return ends.map((_, i) => positions.has(i));
}

export async function history(pool: PgPoolLike, sql: Statements, task: string, { limit = DEFAULT_HISTORY_LIMIT }: HistoryOptions = {}): Promise<FireRecord[]> {
  if (!(limit >= 1)) return [];
  const { rows } = await pool.query({ ...sql.history, values: [task, Math.floor(limit)] });
  return rows.map((row) => (row as { record: FireRecord }).record);
}

export async function lease(pool: PgPoolLike, sql: Statements, key: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await pool.query({ ...sql.lease, values: [key, ttlMs] });
  return rowCount === 1;
}

export async function setPaused(pool: PgPoolLike, sql: Statements, task: string, paused: boolean): Promise<void> {
  await pool.query({ ...(paused ? sql.pause : sql.resume), values: [task] });
}

export async function taskState(pool: PgPoolLike, sql: Statements, task: string): Promise<TaskState> {
  const { rows } = await pool.query({ ...sql.taskState, values: [task] });
  return (rows[0] as { state: TaskState } | undefined)?.state ?? { paused: false, runs: 0 };
}

export async function trigger(pool: PgPoolLike, sql: Statements, task: string): Promise<number> {
  const { rows } = await pool.query({ ...sql.trigger, values: [task] });
  return Number((rows[0] as { slot: string }).slot);
}

export async function triggers(pool: PgPoolLike, sql: Statements, since: number): Promise<Trigger[]> {
  const { rows } = await pool.query({ ...sql.triggers, values: [since] });
  return rows.map((row) => {
    const { task, slot } = row as { task: string; slot: string };
    return { task, slot: Number(slot) };
  });
}
