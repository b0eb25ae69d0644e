// The schema the PostgreSQL coordinator created before buffered records (overlap 'buffer-one'): its tables, upgrade
// step and claim function, as postgresSchemaSql() wrote them for prefix 'fleetcron', frozen here so that the upgrade
// of such a database is tested against what was shipped rather than against a reconstruction.
export const schemaV2Sql = (schema: string): string => `
CREATE SCHEMA IF NOT EXISTS "${schema}";

-- Per task, outliving its records: its fencing counter, how many records it has, whether it is paused, and its
-- won claims (what fleetMax counts).
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_tasks" (
  task text PRIMARY KEY,
  last_token bigint NOT NULL,
  record_count integer NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  runs bigint NOT NULL DEFAULT 0
);

-- Per fire: the record its winning claim wrote (or the claim a policy refused: skipped), kept until retention drops it
-- (never while its lease runs).
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_records" (
  task text NOT NULL,
  slot timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'lost', 'skipped')),
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
CREATE INDEX IF NOT EXISTS "fleetcron_records_running" ON "${schema}"."fleetcron_records" (task, lease_until) WHERE state = 'running';

DO $upgrade$
DECLARE
  has_paused boolean;
  has_runs boolean;
  state_check name;
BEGIN
  SELECT bool_or(a.attname = 'paused'), bool_or(a.attname = 'runs') INTO has_paused, has_runs
    FROM pg_attribute a WHERE a.attrelid = '"${schema}"."fleetcron_tasks"'::regclass AND a.attnum > 0 AND NOT a.attisdropped;
  IF NOT has_paused THEN
    ALTER TABLE "${schema}"."fleetcron_tasks" ADD COLUMN paused boolean NOT NULL DEFAULT false;
  END IF;
  IF NOT has_runs THEN
    ALTER TABLE "${schema}"."fleetcron_tasks" ADD COLUMN runs bigint NOT NULL DEFAULT 0;
    -- Before skipped records, every token went to a won claim: the last one is the task's runs so far.
    UPDATE "${schema}"."fleetcron_tasks" SET runs = last_token WHERE last_token > 0;
  END IF;
  SELECT c.conname INTO state_check FROM pg_constraint c
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) AND a.attname = 'state'
    WHERE c.conrelid = '"${schema}"."fleetcron_records"'::regclass AND c.contype = 'c' AND pg_get_constraintdef(c.oid) NOT LIKE '%''skipped''%';
  IF FOUND THEN
    -- Under its old name, which PostgreSQL chose. NOT VALID skips checking the rows there: each passed the old, narrower check.
    EXECUTE format($alter$ALTER TABLE "${schema}"."fleetcron_records" DROP CONSTRAINT %I, ADD CONSTRAINT %I CHECK (state IN ('running', 'succeeded', 'failed', 'lost', 'skipped')) NOT VALID$alter$, state_check, state_check);
  END IF;
END
$upgrade$;

-- Leases of keys that name no fire (shouldRun with a key of your own).
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_leases" (
  key text PRIMARY KEY,
  lease_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS "fleetcron_leases_expiry" ON "${schema}"."fleetcron_leases" (lease_until);

-- Extra fires asked for by trigger(), kept a minute for the host authorities to hear of them (triggers()). A database
-- made by an earlier version gets the table here, on first use.
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_triggers" (
  task text NOT NULL,
  slot timestamptz NOT NULL,
  PRIMARY KEY (task, slot)
);

CREATE OR REPLACE FUNCTION "${schema}"."fleetcron_claim"(requests jsonb, per_task integer, max_age_ms bigint) RETURNS jsonb
LANGUAGE plpgsql AS $claim$
DECLARE
  request jsonb;
  task_name text;
  slot_at timestamptz;
  now_at timestamptz;
  held record;
  running record;
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
      now_at := date_trunc('milliseconds', clock_timestamp());
      lost := '[]';
      PERFORM FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name AND r.state = 'running' AND r.lease_until < now_at;
      IF FOUND THEN
        WITH lapsed AS (
          UPDATE "${schema}"."fleetcron_records" r SET state = 'lost', error_name = 'LostFire',
            error_message = 'its lease ended at ' || to_char(r.lease_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' without an end from its holder'
          WHERE r.task = task_name AND r.state = 'running' AND r.lease_until < now_at
          RETURNING r.*
        )
        SELECT coalesce(jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
  'task', lapsed.task, 'slot', (extract(epoch FROM lapsed.slot) * 1000)::bigint, 'state', lapsed.state,
  'holder', jsonb_build_object('host', lapsed.host, 'pid', lapsed.pid, 'incarnation', lapsed.incarnation),
  'fencingToken', lapsed.fencing_token, 'claimedAt', (extract(epoch FROM lapsed.claimed_at) * 1000)::bigint, 'leaseUntil', (extract(epoch FROM lapsed.lease_until) * 1000)::bigint,
  'startedAt', (extract(epoch FROM lapsed.started_at) * 1000)::bigint, 'endedAt', (extract(epoch FROM lapsed.ended_at) * 1000)::bigint,
  'durationMs', (extract(epoch FROM lapsed.ended_at) * 1000)::bigint - (extract(epoch FROM lapsed.started_at) * 1000)::bigint,
  'error', CASE WHEN lapsed.error_name IS NOT NULL THEN jsonb_build_object('name', lapsed.error_name, 'message', lapsed.error_message) END)) ORDER BY lapsed.slot), '[]') INTO lost FROM lapsed;
      END IF;
    ELSE
      lost := '[]';
    END IF;
    slot_at := (timestamptz 'epoch' + (request ->> 'slot')::bigint * interval '1 millisecond');
    answer := NULL;

    SELECT r.host, r.pid, r.incarnation, r.state, r.fencing_token, r.claim_id, r.error_name INTO held FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name AND r.slot = slot_at;
    IF NOT FOUND THEN
      refused := NULL;
      refused_by := NULL;
      INSERT INTO "${schema}"."fleetcron_tasks" AS t (task, last_token, record_count, runs) VALUES (task_name, 1, 1, 1)
        ON CONFLICT (task) DO UPDATE SET last_token = t.last_token + 1, record_count = t.record_count + 1, runs = t.runs + 1
        RETURNING t.last_token, t.record_count, t.paused, t.runs INTO token, kept, task_paused, task_runs;
      -- Read again now that the counter is held: a task's records are stamped in the order of their tokens.
      now_at := date_trunc('milliseconds', clock_timestamp());
      IF task_paused THEN
        refused := 'paused';
        skip_name := 'Paused';
        skip_message := 'the task was paused';
      -- task_runs counts this claim already; numeric compares a fleetMax that is no integer as the number it is.
      ELSIF task_runs > (request ->> 'fleetMax')::numeric THEN
        refused := 'limit';
      ELSIF request ->> 'overlap' = 'skip' THEN
        SELECT r.slot, r.host, r.pid, r.incarnation INTO running FROM "${schema}"."fleetcron_records" r
          WHERE r.task = task_name AND r.state = 'running' AND r.lease_until >= now_at ORDER BY r.fencing_token LIMIT 1;
        IF FOUND THEN
          refused := 'overlap';
          skip_name := 'Overlap';
          skip_message := 'fire ' || to_char(running.slot AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') || ' of the task was still running';
          refused_by := jsonb_build_object('host', running.host, 'pid', running.pid, 'incarnation', running.incarnation);
        END IF;
      END IF;

      IF refused IS NULL THEN
        INSERT INTO "${schema}"."fleetcron_records" (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until)
          VALUES (task_name, slot_at, 'running', request ->> 'host', (request ->> 'pid')::integer, request ->> 'incarnation', token,
            request ->> 'claimId', now_at, now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond')
          ON CONFLICT (task, slot) DO NOTHING;
        written := FOUND;
      ELSIF refused <> 'limit' THEN
        INSERT INTO "${schema}"."fleetcron_records" (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until, ended_at, error_name, error_message)
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
          SELECT r.slot, r.claimed_at, r.lease_until INTO oldest FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name ORDER BY r.slot LIMIT 1;
          EXIT WHEN pruned = 100 OR oldest.lease_until >= now_at
            OR (kept <= per_task AND oldest.claimed_at >= now_at - max_age_ms * interval '1 millisecond');
          DELETE FROM "${schema}"."fleetcron_records" r
            WHERE r.ctid = (SELECT o.ctid FROM "${schema}"."fleetcron_records" o WHERE o.task = task_name AND o.slot = oldest.slot FOR UPDATE SKIP LOCKED);
          EXIT WHEN NOT FOUND;
          kept := kept - 1;
          pruned := pruned + 1;
        END LOOP;
        IF pruned > 0 OR refused IS NOT NULL THEN
          UPDATE "${schema}"."fleetcron_tasks" t SET record_count = kept, runs = t.runs - (refused IS NOT NULL)::integer WHERE t.task = task_name;
        END IF;
        answer := CASE WHEN refused IS NULL THEN jsonb_build_object('won', true, 'fencingToken', token, 'runs', task_runs)
          ELSE jsonb_strip_nulls(jsonb_build_object('won', false, 'holder', refused_by, 'refused', refused)) END;
      ELSE
        UPDATE "${schema}"."fleetcron_tasks" t SET last_token = t.last_token - 1, record_count = t.record_count - 1, runs = t.runs - 1 WHERE t.task = task_name;
        SELECT r.host, r.pid, r.incarnation, r.state, r.fencing_token, r.claim_id, r.error_name INTO held FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name AND r.slot = slot_at;
        -- A fire another batch recorded meanwhile is answered from its record, as if it had been there first.
        IF NOT FOUND AND refused = 'limit' THEN
          answer := jsonb_build_object('won', false, 'refused', 'limit');
        END IF;
      END IF;
    END IF;

    IF answer IS NULL THEN
      IF held.claim_id = request ->> 'claimId' AND held.state <> 'skipped' THEN
        SELECT t.runs INTO task_runs FROM "${schema}"."fleetcron_tasks" t WHERE t.task = task_name;
        answer := jsonb_build_object('won', true, 'fencingToken', held.fencing_token, 'runs', task_runs);
      ELSIF held.claim_id = request ->> 'claimId' THEN
        answer := jsonb_build_object('won', false, 'refused', CASE held.error_name WHEN 'Paused' THEN 'paused' ELSE 'overlap' END);
      ELSE
        answer := jsonb_build_object('won', false, 'holder', jsonb_build_object('host', held.host, 'pid', held.pid, 'incarnation', held.incarnation));
      END IF;
    END IF;
    answers := answers || jsonb_build_array(answer || jsonb_build_object('lost', lost));
  END LOOP;
  RETURN answers;
END
$claim$;
`;
