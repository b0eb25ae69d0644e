import { createHash } from 'node:crypto';

// SQL fragments shared by the claim function and the statements. Times are stored as timestamptz, exact to the
// millisecond (FireRecord's resolution); the database's clock is the only one that judges leases.

/** Now, on the database's clock, to the millisecond. */
export const NOW = `date_trunc('milliseconds', clock_timestamp())`;

/** A timestamptz as epoch milliseconds (bigint). */
export const ms = (timestamp: string): string => `(extract(epoch FROM ${timestamp}) * 1000)::bigint`;

/** A timestamptz as text, as JavaScript's `toISOString()` writes it. */
export const iso = (timestamp: string): string => `to_char(${timestamp} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Epoch milliseconds (a number) as a timestamptz. */
export const at = (epochMs: string): string => `(timestamptz 'epoch' + ${epochMs} * interval '1 millisecond')`;

/** The FireRecord of row `r` of the records table, as jsonb (absent fields left out). */
export const recordJson = (r: string): string => `jsonb_strip_nulls(jsonb_build_object(
  'task', ${r}.task, 'slot', ${ms(`${r}.slot`)}, 'state', ${r}.state,
  'holder', jsonb_build_object('host', ${r}.host, 'pid', ${r}.pid, 'incarnation', ${r}.incarnation),
  'fencingToken', ${r}.fencing_token, 'claimedAt', ${ms(`${r}.claimed_at`)}, 'leaseUntil', ${ms(`${r}.lease_until`)},
  'startedAt', ${ms(`${r}.started_at`)}, 'endedAt', ${ms(`${r}.ended_at`)},
  'durationMs', ${ms(`${r}.ended_at`)} - ${ms(`${r}.started_at`)},
  'error', CASE WHEN ${r}.error_name IS NOT NULL THEN jsonb_build_object('name', ${r}.error_name, 'message', ${r}.error_message) END))`;

/** A statement with the name it is prepared under. */
export interface Prepared {
  name: string;
  text: string;
}

/**
 * `text` as a named prepared statement: each connection parses and plans it once, which takes a good part of a
 * claim's cost off every later one. The name is the text's hash, so that coordinators on other tables never share one.
 */
export function prepared(text: string): Prepared {
  return { name: `fleetcron-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`, text };
}
