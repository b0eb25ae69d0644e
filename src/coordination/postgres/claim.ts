import type { ClaimAnswer, ClaimRequest } from '../records/backend.js';
import type { RetentionOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, recordJson } from './sql.js';

/** Records past retention dropped by one claim of a task, at most: a backlog (retention lowered, say) drains over claims. */
const PRUNE_PER_CLAIM = 100;

/**
 * The claim function: a batch of claims in one statement, answered in order. PL/pgSQL rather than one CTE statement
 * because each claim must see the writes of those before it in the batch (two claims of one fire, several of one
 * task), and one statement sees one snapshot and may not change a row twice.
 *
 * Read committed, no retries needed: every claim of a task first locks the task's counter row (created if missing),
 * so the claims of one task queue up there and the lapse check, the look-up, the counter and the insert of each see
 * all that the claims before it committed. The rows of a batch's tasks are locked in one order (by name, bytewise)
 * before any claim is made, so two batches never wait for each other in a cycle. renew and end touch one record row
 * and take no other lock. Times come from the database's clock, read once the locks are held.
 */
export function claimFunctionSql(n: PostgresNames): string {
  return `CREATE OR REPLACE FUNCTION ${n.claim}(requests jsonb, per_task integer, max_age_ms bigint) RETURNS jsonb
LANGUAGE plpgsql AS $claim$
DECLARE
  request jsonb;
  task_name text;
  slot_at timestamptz;
  now_at timestamptz;
  held record;
  oldest record;
  token bigint;
  lost jsonb;
  answers jsonb := '[]';
BEGIN
  FOR task_name IN SELECT DISTINCT (r ->> 'task') COLLATE "C" AS name FROM jsonb_array_elements(requests) AS r ORDER BY name LOOP
    INSERT INTO ${n.tasks} (task) VALUES (task_name) ON CONFLICT (task) DO NOTHING;
    PERFORM 1 FROM ${n.tasks} t WHERE t.task = task_name FOR UPDATE;
  END LOOP;
  now_at := ${NOW};

  FOR i IN 0 .. jsonb_array_length(requests) - 1 LOOP
    request := requests -> i;
    task_name := request ->> 'task';
    slot_at := ${at(`(request ->> 'slot')::bigint`)};

    -- The task's running records whose lease passed without an end: lost, and reported by this claim alone.
    WITH lapsed AS (
      UPDATE ${n.records} r SET state = 'lost', error_name = 'LostFire',
        error_message = 'its lease ended at ' || to_char(r.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' without an end from its holder'
      WHERE r.task = task_name AND r.state = 'running' AND r.lease_until < now_at
      RETURNING r.*
    )
    SELECT coalesce(jsonb_agg(${recordJson('lapsed')} ORDER BY lapsed.fencing_token), '[]') INTO lost FROM lapsed;

    SELECT r.host, r.pid, r.incarnation, r.fencing_token, r.claim_id INTO held FROM ${n.records} r WHERE r.task = task_name AND r.slot = slot_at;
    IF FOUND AND held.claim_id = request ->> 'claimId' THEN
      answers := answers || jsonb_build_array(jsonb_build_object('won', true, 'fencingToken', held.fencing_token, 'lost', lost));
    ELSIF FOUND THEN
      answers := answers || jsonb_build_array(jsonb_build_object('won', false, 'lost', lost,
        'holder', jsonb_build_object('host', held.host, 'pid', held.pid, 'incarnation', held.incarnation)));
    ELSE
      UPDATE ${n.tasks} t SET last_token = t.last_token + 1 WHERE t.task = task_name RETURNING t.last_token INTO token;
      INSERT INTO ${n.records} (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until)
      VALUES (task_name, slot_at, 'running', request ->> 'host', (request ->> 'pid')::integer, request ->> 'incarnation', token,
        request ->> 'claimId', now_at, now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond');

      -- Retention, oldest first (token order is claim order): past per_task or max_age_ms, and never a record whose
      -- lease has not passed. Records leave oldest first only, so the task's tokens count its records.
      FOR oldest IN SELECT r.fencing_token, r.claimed_at, r.lease_until FROM ${n.records} r
        WHERE r.task = task_name ORDER BY r.fencing_token LIMIT ${PRUNE_PER_CLAIM} LOOP
        EXIT WHEN oldest.lease_until >= now_at
          OR (oldest.fencing_token > token - per_task AND oldest.claimed_at >= now_at - max_age_ms * interval '1 millisecond');
        DELETE FROM ${n.records} r WHERE r.task = task_name AND r.fencing_token = oldest.fencing_token;
      END LOOP;

      answers := answers || jsonb_build_array(jsonb_build_object('won', true, 'fencingToken', token, 'lost', lost));
    END IF;
  END LOOP;
  RETURN answers;
END
$claim$;`;
}

/** Claims `requests` with one statement: one round trip, one transaction. */
export async function claimAll(
  pool: PgPoolLike,
  names: PostgresNames,
  requests: readonly ClaimRequest[],
  retention: Required<RetentionOptions>,
): Promise<ClaimAnswer[]> {
  if (requests.length === 0) return [];
  const batch = requests.map(({ task, slot, leaseMs, holder, claimId }) => ({ task, slot, leaseMs, claimId, ...holder }));
  const { rows } = await pool.query(`SELECT ${names.claim}($1::jsonb, $2, $3) AS answers`, [JSON.stringify(batch), retention.perTask, retention.maxAgeMs]);
  const answers = (rows[0] as { answers?: unknown } | undefined)?.answers;
  if (!Array.isArray(answers) || answers.length !== requests.length) {
    throw new TypeError(`PostgresRunCoordinator: ${names.claim} answered ${JSON.stringify(answers)} to ${requests.length} claim(s)`);
  }
  return answers as ClaimAnswer[];
}
