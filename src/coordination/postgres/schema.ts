import { createHash } from 'node:crypto';
import { claimFunctionSql } from './claim.js';
import type { PgPoolLike } from './pool.js';

export interface PostgresSchemaOptions {
  /** The schema of the coordinator's tables and function; default `'public'`. Any other is created if missing. */
  schema?: string;
  /**
   * The prefix of their names; default `'fleetcron'`: tables `fleetcron_records`, `fleetcron_tasks`,
   * `fleetcron_triggers` and `fleetcron_leases`, function `fleetcron_claim`. Give each app sharing a database its own
   * prefix or schema.
   */
  table?: string;
}

/** The coordinator's objects, each name quoted (and qualified, where SQL needs it). */
export interface PostgresNames {
  schema: string;
  records: string;
  tasks: string;
  leases: string;
  triggers: string;
  claim: string;
  recordsRunning: string;
  leasesExpiry: string;
  /** The advisory lock the DDL is run under: one per schema and prefix. */
  lockKey: string;
  /** The advisory lock `trigger` is stamped and written under, so that triggers are committed in slot order. */
  triggerLockKey: string;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** PostgreSQL cuts longer names short (NAMEDATALEN - 1), which could make two names one. */
const MAX_NAME_BYTES = 63;

export function postgresNames({ schema = 'public', table = 'fleetcron' }: PostgresSchemaOptions = {}): PostgresNames {
  const names = { records: `${table}_records`, tasks: `${table}_tasks`, leases: `${table}_leases`, triggers: `${table}_triggers`, claim: `${table}_claim` };
  const indexes = { recordsRunning: `${table}_records_running`, leasesExpiry: `${table}_leases_expiry` };
  check('schema', schema, [schema]);
  check('table', table, [...Object.values(names), ...Object.values(indexes)]);
  const qualify = (name: string) => `"${schema}"."${name}"`;
  return {
    schema: `"${schema}"`,
    records: qualify(names.records),
    tasks: qualify(names.tasks),
    leases: qualify(names.leases),
    triggers: qualify(names.triggers),
    claim: qualify(names.claim),
    recordsRunning: `"${indexes.recordsRunning}"`,
    leasesExpiry: `"${indexes.leasesExpiry}"`,
    lockKey: lockKey(`fleetcron:${schema}.${table}`),
    triggerLockKey: lockKey(`fleetcron:${schema}.${table}:triggers`),
  };
}

function lockKey(name: string): string {
  return createHash('sha256').update(name).digest().readBigInt64BE().toString();
}

function check(option: string, value: string, derived: string[]): void {
  const longest = derived.reduce((a, b) => (b.length > a.length ? b : a));
  if (typeof value === 'string' && IDENTIFIER.test(value) && longest.length <= MAX_NAME_BYTES) return;
  throw new RangeError(
    `PostgresRunCoordinator: ${option} must be a plain identifier (letters, digits, _; not starting with a digit) ` +
      `whose derived names fit in ${MAX_NAME_BYTES} characters, got ${JSON.stringify(value)}`,
  );
}

/**
 * The SQL that creates the coordinator's tables and its claim function: idempotent, so it can run at every deploy.
 * Run it yourself (a migration) and construct the coordinator with `createSchema: false` when the app's database
 * user may not create tables.
 */
export function postgresSchemaSql(options: PostgresSchemaOptions = {}): string {
  return schemaSql(postgresNames(options));
}

/** The states a record may be in (FireState), as SQL. */
const STATES = `'running', 'succeeded', 'failed', 'lost', 'skipped', 'buffered'`;

export function schemaSql(n: PostgresNames): string {
  // CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema exists.
  const createSchema = n.schema === '"public"' ? '' : `CREATE SCHEMA IF NOT EXISTS ${n.schema};\n\n`;
  return `${createSchema}-- Per task, outliving its records: its fencing counter, how many records it has, whether it is paused, and its
-- won claims (what fleetMax counts).
CREATE TABLE IF NOT EXISTS ${n.tasks} (
  task text PRIMARY KEY,
  last_token bigint NOT NULL,
  record_count integer NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  runs bigint NOT NULL DEFAULT 0
);

-- Per fire: the record its winning claim wrote (or the claim a policy refused: skipped; or the claim that waits for
-- the run before it: buffered), kept until retention drops it (never while its lease runs).
CREATE TABLE IF NOT EXISTS ${n.records} (
  task text NOT NULL,
  slot timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN (${STATES})),
  host text NOT NULL,
  pid integer NOT NULL,
  incarnation text NOT NULL,
  fencing_token bigint NOT NULL,
  claim_id text NOT NULL,
  claimed_at timestamptz NOT NULL,
  lease_until timestamptz NOT NULL,
  started_at timestamptz,
  ended_at timestamptz,
  error_name text,
  error_message text,
  PRIMARY KEY (task, slot)
);
CREATE INDEX IF NOT EXISTS ${n.recordsRunning} ON ${n.records} (task, lease_until) WHERE state = 'running';

${upgradeSql(n)}

-- Leases of keys that name no fire (shouldRun with a key of your own).
CREATE TABLE IF NOT EXISTS ${n.leases} (
  key text PRIMARY KEY,
  lease_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS ${n.leasesExpiry} ON ${n.leases} (lease_until);

-- Extra fires asked for by trigger(), kept a minute for the host authorities to hear of them (triggers()). A database
-- made by an earlier version gets the table here, on first use.
CREATE TABLE IF NOT EXISTS ${n.triggers} (
  task text NOT NULL,
  slot timestamptz NOT NULL,
  PRIMARY KEY (task, slot)
);

${claimFunctionSql(n)}
`;
}

/**
 * Brings tables created by an earlier version up to this one: the tasks' paused and runs columns, and 'skipped' and
 * 'buffered' among the record states (a check lacking 'buffered' is either earlier version's). Only when the catalog shows something missing, since an ALTER TABLE locks the table
 * against every claim until commit even when it changes nothing.
 */
function upgradeSql(n: PostgresNames): string {
  return `DO $upgrade$
DECLARE
  has_paused boolean;
  has_runs boolean;
  state_check name;
BEGIN
  SELECT bool_or(a.attname = 'paused'), bool_or(a.attname = 'runs') INTO has_paused, has_runs
    FROM pg_attribute a WHERE a.attrelid = '${n.tasks}'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT has_paused THEN
    ALTER TABLE ${n.tasks} ADD COLUMN paused boolean NOT NULL DEFAULT false;
  END IF;
  IF NOT has_runs THEN
    ALTER TABLE ${n.tasks} ADD COLUMN runs bigint NOT NULL DEFAULT 0;
    -- Before skipped records, every token went to a won claim: the last one is the task's runs so far.
    UPDATE ${n.tasks} SET runs = last_token WHERE last_token > 0;
  END IF;
  SELECT c.conname INTO state_check FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND a.attname = 'state'
    WHERE c.conrelid = '${n.records}'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) NOT LIKE '%''buffered''%';
  IF FOUND THEN
    -- Under its old name, which PostgreSQL chose. NOT VALID skips checking the rows there: each passed the old, narrower check.
    EXECUTE format($alter$ALTER TABLE ${n.records} DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (state IN (${STATES})) NOT VALID$alter$, state_check, state_check);
  END IF;
END
$upgrade$;`;
}

/**
 * Runs the schema's SQL in one transaction under an advisory lock, so that processes starting together create it
 * once (concurrent CREATE TABLE IF NOT EXISTS, or CREATE OR REPLACE FUNCTION, of one name can fail).
 */
export async function createSchema(pool: PgPoolLike, names: PostgresNames): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [names.lockKey]);
    await client.query(schemaSql(names));
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    // The connection may be broken or left inside the transaction: the pool discards it rather than reuse it.
    client.release(error instanceof Error ? error : true);
    throw error;
  }
}
