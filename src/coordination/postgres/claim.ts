import type { ClaimAnswer, ClaimRequest } from '../records/backend.js';
import type { RetentionOptions } from '../records/fire-record.js';
import type { PgPoolLike } from './pool.js';
import type { PostgresNames } from './schema.js';
import { NOW, at, iso, recordJson } from './sql.js';
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
 * function answers in the order it was sent. Per task, first: its running (or buffered) records whose lease passed
 * are marked lost (row locks: of two batches finding one, the second waits, then sees it no longer running, so each
 * is reported once, by the task's first claim). Per claim: a fire that has a record is answered from it without a
 * write, but for a buffered record asked for by its claimant (same host and incarnation): under the task's counter
 * row, the record is locked without waiting (SKIP LOCKED: a batch marking it lost holds it and waits for the
 * counter; the claimant, told `buffered`, asks again), then its lease is renewed while a fire runs, else it runs
 * under the task's next token; else the task's counter row is incremented as for a win (token, record count, runs), which locks it until
 * commit, so the claims of one task queue up there, its policies (paused, runs against fleetMax, a record still
 * running) are judged one claim at a time, and its tokens increase in the order its records are written. A claim
 * that finds the fire taken once it holds the counter (another batch wrote it meanwhile), or is refused, takes back
 * what it did not use, unseen by anyone: a skipped record keeps its token, a limit writes nothing. Retention skips
 * rows locked by others rather than wait for them. Times are the database's.
 */
export function claimFunctionSql(n: PostgresNames): string {
  const held = `SELECT r.host, r.pid, r.incarnation, r.state, r.fencing_token, r.claim_id, r.error_name INTO held FROM ${n.records} r WHERE r.task = task_name AND r.slot = slot_at`;
  const holderOf = (r: string) => `jsonb_build_object('host', ${r}.host, 'pid', ${r}.pid, 'incarnation', ${r}.incarnation)`;
  const stillRunning = `SELECT r.slot, r.host, r.pid, r.incarnation INTO running FROM ${n.records} r
          WHERE r.task = task_name AND r.state = 'running' AND r.lease_until >= now_at ORDER BY r.fencing_token LIMIT 1;
        running_found := FOUND`;
  return `CREATE OR REPLACE FUNCTION ${n.claim}(requests jsonb, per_task integer, max_age_ms bigint) RETURNS jsonb
LANGUAGE plpgsql AS $claim$
DECLARE
  request jsonb;
  task_name text;
  slot_at timestamptz;
  now_at timestamptz;
  held record;
  running record;
  waiting record;
  running_found boolean;
  waiting_found boolean;
  oldest record;
  token bigint;
  kept integer;
  task_paused boolean;
  task_runs bigint;
  refused text;
  skip_name text;
  skip_message text;
  refused_by jsonb;
  written boolean;
  pruned integer;
  lost jsonb;
  answer jsonb;
  answers jsonb := '[]';
BEGIN
  FOR i IN 0 .. jsonb_array_length(requests) - 1 LOOP
    request := requests -> i;
    IF i = 0 OR request ->> 'task' <> task_name THEN
      task_name := request ->> 'task';
      now_at := ${NOW};
      lost := '[]';
      PERFORM FROM ${n.records} r WHERE r.task = task_name AND r.state IN ('running', 'buffered') AND r.lease_until < now_at;
      IF FOUND THEN
        WITH lapsed AS (
          UPDATE ${n.records} r SET state = 'lost', error_name = 'LostFire',
            error_message = CASE r.state
              WHEN 'buffered' THEN 'it waited for the run before it, and its holder stopped asking at ' || ${iso('r.lease_until')}
              ELSE 'its lease ended at ' || ${iso('r.lease_until')} || ' without an end from its holder' END
          WHERE r.task = task_name AND r.state IN ('running', 'buffered') AND r.lease_until < now_at
          RETURNING r.*
        )
        SELECT coalesce(jsonb_agg(${recordJson('lapsed')} ORDER BY lapsed.slot), '[]') INTO lost FROM lapsed;
      END IF;
    ELSE
      lost := '[]';
    END IF;
    slot_at := ${at(`(request ->> 'slot')::bigint`)};
    answer := NULL;

    ${held};
    IF NOT FOUND THEN
      refused := NULL;
      refused_by := NULL;
      INSERT INTO ${n.tasks} AS t (task, last_token, record_count, runs) VALUES (task_name, 1, 1, 1)
        ON CONFLICT (task) DO UPDATE SET last_token = t.last_token + 1, record_count = t.record_count + 1, runs = t.runs + 1
        RETURNING t.last_token, t.record_count, t.paused, t.runs INTO token, kept, task_paused, task_runs;
      -- Read again now that the counter is held: a task's records are stamped in the order of their tokens.
      now_at := ${NOW};
      IF task_paused THEN
        refused := 'paused';
        skip_name := 'Paused';
        skip_message := 'the task was paused';
      -- task_runs counts this claim already; numeric compares a fleetMax that is no integer as the number it is.
      ELSIF task_runs > (request ->> 'fleetMax')::numeric THEN
        refused := 'limit';
      ELSIF request ->> 'overlap' IN ('skip', 'buffer-one') THEN
        ${stillRunning};
        -- The task's one buffered record (its lease passed or not: the next claim's lapse step judges it).
        SELECT r.slot, r.host, r.pid, r.incarnation INTO waiting FROM ${n.records} r
          WHERE r.task = task_name AND r.state = 'buffered' ORDER BY r.slot LIMIT 1;
        waiting_found := FOUND;
        IF running_found AND request ->> 'overlap' = 'buffer-one' AND NOT waiting_found THEN
          refused := 'buffered';
          skip_name := NULL;
          skip_message := NULL;
          refused_by := ${holderOf('running')};
        ELSIF running_found THEN
          refused := 'overlap';
          skip_name := 'Overlap';
          skip_message := 'fire ' || ${iso('running.slot')} || ' of the task was still running';
          refused_by := ${holderOf('running')};
        ELSIF waiting_found THEN
          refused := 'overlap';
          skip_name := 'Overlap';
          skip_message := 'fire ' || ${iso('waiting.slot')} || ' of the task was waiting for the run before it';
          refused_by := ${holderOf('waiting')};
        END IF;
      END IF;

      IF refused IS NULL OR refused = 'buffered' THEN
        -- Running under the claim's lease; or, buffered, waiting under it out of the running records: the task's one.
        INSERT INTO ${n.records} (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until)
          VALUES (task_name, slot_at, CASE WHEN refused IS NULL THEN 'running' ELSE 'buffered' END, request ->> 'host', (request ->> 'pid')::integer,
            request ->> 'incarnation', token, request ->> 'claimId', now_at, now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond')
          ON CONFLICT (task, slot) DO NOTHING;
        written := FOUND;
      ELSIF refused <> 'limit' THEN
        INSERT INTO ${n.records} (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until, ended_at, error_name, error_message)
          VALUES (task_name, slot_at, 'skipped', request ->> 'host', (request ->> 'pid')::integer, request ->> 'incarnation', token,
            request ->> 'claimId', now_at, now_at, now_at, skip_name, skip_message)
          ON CONFLICT (task, slot) DO NOTHING;
        written := FOUND;
      ELSE
        written := false;
      END IF;
      IF written THEN
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
        IF pruned > 0 OR refused IS NOT NULL THEN
          UPDATE ${n.tasks} t SET record_count = kept, runs = t.runs - (refused IS NOT NULL)::integer WHERE t.task = task_name;
        END IF;
        answer := CASE WHEN refused IS NULL THEN jsonb_build_object('won', true, 'fencingToken', token, 'runs', task_runs)
          ELSE jsonb_strip_nulls(jsonb_build_object('won', false, 'holder', refused_by, 'refused', refused)) END;
      ELSE
        UPDATE ${n.tasks} t SET last_token = t.last_token - 1, record_count = t.record_count - 1, runs = t.runs - 1 WHERE t.task = task_name;
        ${held};
        -- A fire another batch recorded meanwhile is answered from its record, as if it had been there first.
        IF NOT FOUND AND refused = 'limit' THEN
          answer := jsonb_build_object('won', false, 'refused', 'limit');
        END IF;
      END IF;
    END IF;

    IF answer IS NULL AND held.state = 'buffered' AND held.host = request ->> 'host' AND held.incarnation = request ->> 'incarnation' THEN
      -- The claimant of the waiting fire asks again: it waits on (its lease renewed) while a fire runs, else it runs.
      PERFORM FROM ${n.tasks} t WHERE t.task = task_name FOR UPDATE;
      now_at := ${NOW};
      SELECT r.slot INTO waiting FROM ${n.records} r
        WHERE r.task = task_name AND r.slot = slot_at AND r.state = 'buffered' AND r.host = request ->> 'host' AND r.incarnation = request ->> 'incarnation'
        FOR UPDATE SKIP LOCKED;
      waiting_found := FOUND;
      ${stillRunning};
      IF waiting_found AND running_found THEN
        UPDATE ${n.records} r SET lease_until = now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond', claim_id = request ->> 'claimId'
          WHERE r.task = task_name AND r.slot = slot_at;
        answer := jsonb_build_object('won', false, 'holder', ${holderOf('running')}, 'refused', 'buffered');
      ELSIF waiting_found THEN
        UPDATE ${n.tasks} t SET last_token = t.last_token + 1, runs = t.runs + 1 WHERE t.task = task_name RETURNING t.last_token, t.runs INTO token, task_runs;
        UPDATE ${n.records} r SET state = 'running', host = request ->> 'host', pid = (request ->> 'pid')::integer, incarnation = request ->> 'incarnation',
            fencing_token = token, claim_id = request ->> 'claimId', lease_until = now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond'
          WHERE r.task = task_name AND r.slot = slot_at;
        answer := jsonb_build_object('won', true, 'fencingToken', token, 'runs', task_runs);
      ELSE
        ${held};
        -- Still buffered as last committed: another batch holds it (renewing it, running it, or marking it lost).
        IF FOUND AND held.state = 'buffered' AND held.host = request ->> 'host' AND held.incarnation = request ->> 'incarnation' THEN
          answer := jsonb_build_object('won', false, 'holder', CASE WHEN running_found THEN ${holderOf('running')} ELSE ${holderOf('held')} END, 'refused', 'buffered');
        END IF;
      END IF;
    END IF;

    IF answer IS NULL THEN
      IF held.claim_id = request ->> 'claimId' AND held.state <> 'skipped' THEN
        SELECT t.runs INTO task_runs FROM ${n.tasks} t WHERE t.task = task_name;
        answer := jsonb_build_object('won', true, 'fencingToken', held.fencing_token, 'runs', task_runs);
      ELSIF held.claim_id = request ->> 'claimId' THEN
        answer := jsonb_build_object('won', false, 'refused', CASE held.error_name WHEN 'Paused' THEN 'paused' ELSE 'overlap' END);
      ELSE
        answer := jsonb_build_object('won', false, 'holder', ${holderOf('held')});
      END IF;
    END IF;
    answers := answers || jsonb_build_array(answer || jsonb_build_object('lost', lost));
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
    const { task, slot, leaseMs, holder, claimId, overlap, fleetMax } = requests[i]!;
    return { task, slot, leaseMs, claimId, host: holder.host, pid: holder.pid, incarnation: holder.incarnation, overlap, fleetMax };
  });
  const { rows } = await pool.query({ ...sql.claim, values: [JSON.stringify(batch), retention.perTask, retention.maxAgeMs] });
  const sent = (rows[0] as { answers?: unknown } | undefined)?.answers;
  if (!Array.isArray(sent) || sent.length !== requests.length) {
    throw new TypeError(`PostgresRunCoordinator: the claim function answered ${JSON.stringify(sent)} to ${requests.length} claim(s)`);
  }
  const answers = new Array<ClaimAnswer>(requests.length);
  order.forEach((asked, i) => (answers[asked] = withHolder(sent[i] as Sent)));
  return answers;
}

/** An answer as the function sends it: a refusal without a holder (paused, limit) lacks the field, JSON having no undefined. */
type Sent = ClaimAnswer | Omit<Extract<ClaimAnswer, { won: false }>, 'holder'>;

function withHolder(answer: Sent): ClaimAnswer {
  return answer.won ? answer : { holder: undefined, ...answer };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
