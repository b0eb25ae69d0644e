import { DEFAULT_HISTORY_LIMIT, type FireOutcome, type FireRecord, type HistoryOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, recordJson } from './sql.js';

// One statement each, so one round trip and one transaction each.

export async function renew(pool: PgPoolLike, n: PostgresNames, task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `UPDATE ${n.records} SET lease_until = ${NOW} + $4::bigint * interval '1 millisecond'
     WHERE task = $1 AND slot = ${at('$2::bigint')} AND fencing_token = $3 AND state = 'running' AND lease_until >= ${NOW}`,
    [task, slot, fencingToken, leaseMs],
  );
  return rowCount === 1;
}

export async function end(pool: PgPoolLike, n: PostgresNames, task: string, slot: number, fencingToken: number, outcome: FireOutcome): Promise<boolean> {
  const [startedAt, error] =
    outcome.state === 'lost' ? [null, { name: 'LostFire', message: outcome.cause }] : [outcome.startedAt, outcome.state === 'failed' ? outcome.error : undefined];
  const { rowCount } = await pool.query(
    `UPDATE ${n.records} SET state = $4, started_at = ${at('$5::float8')}, ended_at = ${at('$6::float8')},
       error_name = $7, error_message = $8, lease_until = least(lease_until, ${NOW})
     WHERE task = $1 AND slot = ${at('$2::bigint')} AND fencing_token = $3`,
    [task, slot, fencingToken, outcome.state, startedAt, outcome.endedAt, error?.name ?? null, error?.message ?? null],
  );
  return rowCount === 1;
}

export async function history(pool: PgPoolLike, n: PostgresNames, task: string, { limit = DEFAULT_HISTORY_LIMIT }: HistoryOptions = {}): Promise<FireRecord[]> {
  if (!(limit >= 1)) return [];
  const { rows } = await pool.query(
    `SELECT ${recordJson('r')} AS record FROM ${n.records} r WHERE r.task = $1 ORDER BY r.slot DESC LIMIT $2`,
    [task, Math.floor(limit)],
  );
  return rows.map((row) => (row as { record: FireRecord }).record);
}

/**
 * A lease of a key that names no fire: won when the key is free or its lease has passed. Sweeps a few other
 * expired leases on the way (rows locked by another sweep are skipped), so keys used once do not pile up.
 */
export async function lease(pool: PgPoolLike, n: PostgresNames, key: string, ttlMs: number): Promise<boolean> {
  const { rowCount } = await pool.query(
    `WITH swept AS (
       DELETE FROM ${n.leases} WHERE key IN (
         SELECT key FROM ${n.leases} WHERE lease_until <= ${NOW} AND key <> $1 ORDER BY lease_until LIMIT 10 FOR UPDATE SKIP LOCKED))
     INSERT INTO ${n.leases} AS l (key, lease_until) VALUES ($1, ${NOW} + $2::bigint * interval '1 millisecond')
     ON CONFLICT (key) DO UPDATE SET lease_until = excluded.lease_until WHERE l.lease_until <= ${NOW}`,
    [key, ttlMs],
  );
  return rowCount === 1;
}
