import { DEFAULT_HISTORY_LIMIT, type FireOutcome, type FireRecord, type HistoryOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, prepared, recordJson, type Prepared } from './sql.js';

/** Every statement of a coordinator, one round trip and one transaction each. */
export interface Statements {
  claim: Prepared;
  renew: Prepared;
  end: Prepared;
  history: Prepared;
  lease: Prepared;
}

export function statementsFor(n: PostgresNames): Statements {
  return {
    claim: prepared(`SELECT ${n.claim}($1::jsonb, $2, $3) AS answers`),
    renew: prepared(`UPDATE ${n.records} SET lease_until = ${NOW} + $4::bigint * interval '1 millisecond'
      WHERE task = $1 AND slot = ${at('$2::bigint')} AND fencing_token = $3 AND state = 'running' AND lease_until >= ${NOW}`),
    end: prepared(`UPDATE ${n.records} SET state = $4, started_at = ${at('$5::float8')}, ended_at = ${at('$6::float8')},
        error_name = $7, error_message = $8, lease_until = least(lease_until, ${NOW})
      WHERE task = $1 AND slot = ${at('$2::bigint')} AND fencing_token = $3`),
    history: prepared(`SELECT ${recordJson('r')} AS record FROM ${n.records} r WHERE r.task = $1 ORDER BY r.slot DESC LIMIT $2`),
    // Won when the key is free or its lease has passed. Sweeps a few other expired leases on the way (skipping rows
    // another sweep has locked), so that keys used once do not pile up.
    lease: prepared(`WITH swept AS (
        DELETE FROM ${n.leases} WHERE key IN (
          SELECT key FROM ${n.leases} WHERE lease_until <= ${NOW} AND key <> $1 ORDER BY lease_until LIMIT 10 FOR UPDATE SKIP LOCKED))
      INSERT INTO ${n.leases} AS l (key, lease_until) VALUES ($1, ${NOW} + $2::bigint * interval '1 millisecond')
      ON CONFLICT (key) DO UPDATE SET lease_until = excluded.lease_until WHERE l.lease_until <= ${NOW}`),
  };
}

export async function renew(pool: PgPoolLike, sql: Statements, task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
  const { rowCount } = await pool.query({ ...sql.renew, values: [task, slot, fencingToken, leaseMs] });
  return rowCount === 1;
}

export async function end(pool: PgPoolLike, sql: Statements, task: string, slot: number, fencingToken: number, outcome: FireOutcome): Promise<boolean> {
  const [startedAt, error] =
    outcome.state === 'lost' ? [null, { name: 'LostFire', message: outcome.cause }] : [outcome.startedAt, outcome.state === 'failed' ? outcome.error : undefined];
  const values = [task, slot, fencingToken, outcome.state, startedAt, outcome.endedAt, error?.name ?? null, error?.message ?? null];
  const { rowCount } = await pool.query({ ...sql.end, values });
  return rowCount === 1;
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
