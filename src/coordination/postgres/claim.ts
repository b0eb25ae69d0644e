import type { ClaimAnswer, ClaimRequest } from '../records/backend.js';
import type { RetentionOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, recordJson } from './sql.js';
import type { Statements } from './statements.js';

/** Records past retention dropped by one claim of a task, at most: a backlog (retention lowered, say) drains over claims. */
const PRUNE_PER_CLAIM = 100;

/**
 * The claim function: a batch of claims in one statement, answered in order. PL/pgSQL rather than one CTE statement
 * because each claim must see the writes of those before it in the batch (two claims of one fire, several of one
 * task), and one statement sees one snapshot and may not change a row twice.
 *
 * Read committed, without retries or deadlocks. The client sends a batch sorted by task (claimAll), so that the
 * claims of one task come together and two batches take the locks of their common tasks in the same order; the
 * function answers in the order it was sent. Per task, first: its running records whose lease passed are marked
 * lost (row locks: of two batches finding one, the second waits, then sees it no longer running, so each is
 * reported once, by the task's first claim). Per claim: a fire that has a record is answered from it without a
 * write; else the task's counter row is incremented, which locks it until commit, so the winners of one task queue
 * up there and its tokens increase in the order its records are written. A claim that finds the fire taken once it
 * holds the counter (another batch wrote it meanwhile) loses and takes its increment back, unseen by anyone.
 * Retention skips rows locked by others rather than wait for them. Times are the database's.
 */
export function claimFunctionSql(n: PostgresNames): string {
  const held = `SELECT r.host, r.pid, r.incarnation, r.fencing_token, r.claim_id INTO held FROM ${n.records} r WHERE r.task = task_name AND r.slot = slot_at`;
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
  kept integer;
  pruned integer;
  lost jsonb;
  answers jsonb := '[]';
BEGIN
  FOR i IN 0 .. jsonb_array_length(requests) - 1 LOOP
    request := requests -> i;
    IF i = 0 OR request ->> 'task' <> task_name THEN
      task_name := request ->> 'task';
      now_at := ${NOW};
      lost := '[]';
      PERFORM FROM ${n.records} r WHERE r.task = task_name AND r.state = 'running' AND r.lease_until < now_at;
      IF FOUND THEN
        WITH lapsed AS (
          UPDATE ${n.records} r SET state = 'lost', error_name = 'LostFire',
            error_message = 'its lease ended at ' || to_char(r.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' without an end from its holder'
          WHERE r.task = task_name AND r.state = 'running' AND r.lease_until < now_at
          RETURNING r.*
        )
        SELECT coalesce(jsonb_agg(${recordJson('lapsed')} ORDER BY lapsed.slot), '[]') INTO lost FROM lapsed;
      END IF;
    ELSE
      lost := '[]';
    END IF;
    slot_at := ${at(`(request ->> 'slot')::bigint`)};
    token := NULL;

    ${held};
    IF NOT FOUND THEN
      INSERT INTO ${n.tasks} AS t (task, last_token, record_count) VALUES (task_name, 1, 1)
        ON CONFLICT (task) DO UPDATE SET last_token = t.last_token + 1, record_count = t.record_count + 1
        RETURNING t.last_token, t.record_count INTO token, kept;
      -- Read again now that the counter is held: a task's records are stamped in the order of their tokens.
      now_at := ${NOW};
      INSERT INTO ${n.records} (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until)
        VALUES (task_name, slot_at, 'running', request ->> 'host', (request ->> 'pid')::integer, request ->> 'incarnation', token,
          request ->> 'claimId', now_at, now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond')
        ON CONFLICT (task, slot) DO NOTHING;
      IF FOUND THEN
        -- Retention, oldest slot first: past per_task records or max_age_ms, and never one whose lease has not passed.
        pruned := 0;
        LOOP
          SELECT r.slot, r.claimed_at, r.lease_until INTO oldest FROM ${n.records} r WHERE r.task = task_name ORDER BY r.slot LIMIT 1;
          EXIT WHEN pruned = ${PRUNE_PER_CLAIM} OR oldest.lease_until >= now_at
            OR (kept <= per_task AND oldest.claimed_at >= now_at - max_age_ms * interval '1 millisecond');
          DELETE FROM ${n.records} r
            WHERE r.ctid = (SELECT o.ctid FROM ${n.records} o WHERE o.task = task_name AND o.slot = oldest.slot FOR UPDATE SKIP LOCKED);
          EXIT WHEN NOT FOUND;
          kept := kept - 1;
          pruned := pruned + 1;
        END LOOP;
        IF pruned > 0 THEN
          UPDATE ${n.tasks} t SET record_count = kept WHERE t.task = task_name;
        END IF;
      ELSE
        UPDATE ${n.tasks} t SET last_token = t.last_token - 1, record_count = t.record_count - 1 WHERE t.task = task_name;
        token := NULL;
        ${held};
      END IF;
    END IF;

    answers := answers || jsonb_build_array(CASE
      WHEN token IS NOT NULL THEN jsonb_build_object('won', true, 'fencingToken', token)
      WHEN held.claim_id = request ->> 'claimId' THEN jsonb_build_object('won', true, 'fencingToken', held.fencing_token)
      ELSE jsonb_build_object('won', false, 'holder', jsonb_build_object('host', held.host, 'pid', held.pid, 'incarnation', held.incarnation))
    END || jsonb_build_object('lost', lost));
  END LOOP;
  RETURN answers;
END
$claim$;`;
}

/**
 * Claims `requests` with one statement: one round trip, one transaction. They are sent sorted by task (stable, so a
 * task's claims keep their order), the order every client locks tasks in, and answered in the order asked.
 */
export async function claimAll(
  pool: PgPoolLike,
  sql: Statements,
  requests: readonly ClaimRequest[],
  retention: Required<RetentionOptions>,
): Promise<ClaimAnswer[]> {
  if (requests.length === 0) return [];
  const order = requests.map((_, i) => i).sort((a, b) => compare(requests[a]!.task, requests[b]!.task) || a - b);
  const batch = order.map((i) => {
    const { task, slot, leaseMs, holder, claimId } = requests[i]!;
    return { task, slot, leaseMs, claimId, host: holder.host, pid: holder.pid, incarnation: holder.incarnation };
  });
  const { rows } = await pool.query({ ...sql.claim, values: [JSON.stringify(batch), retention.perTask, retention.maxAgeMs] });
  const sent = (rows[0] as { answers?: unknown } | undefined)?.answers;
  if (!Array.isArray(sent) || sent.length !== requests.length) {
    throw new TypeError(`PostgresRunCoordinator: the claim function answered ${JSON.stringify(sent)} to ${requests.length} claim(s)`);
  }
  const answers = new Array<ClaimAnswer>(requests.length);
  order.forEach((asked, i) => (answers[asked] = sent[i] as ClaimAnswer));
  return answers;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
