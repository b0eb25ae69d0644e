// The schema the PostgreSQL coordinator created before pause, fleetMax and overlap (its tables and claim function,
// as postgresSchemaSql() wrote them for prefix 'fleetcron'), frozen here so that the upgrade of such a database is
// tested against what was shipped rather than against a reconstruction.
export const schemaV1Sql = (schema: string): string => `
CREATE SCHEMA IF NOT EXISTS "${schema}";

-- Per task: its fencing counter, which outlives the task's records, and how many records it has.
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_tasks" (
  task text PRIMARY KEY,
  last_token bigint NOT NULL,
  record_count integer NOT NULL
);

-- Per fire: the record its winning claim wrote, kept until retention drops it (never while its lease runs).
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_records" (
  task text NOT NULL,
  slot timestamptz NOT NULL,
  state text NOT NULL CHECK (state IN ('running', 'succeeded', 'failed', 'lost')),
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

-- Leases of keys that name no fire (shouldRun with a key of your own).
CREATE TABLE IF NOT EXISTS "${schema}"."fleetcron_leases" (
  key text PRIMARY KEY,
  lease_until timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS "fleetcron_leases_expiry" ON "${schema}"."fleetcron_leases" (lease_until);

CREATE OR REPLACE FUNCTION "${schema}"."fleetcron_claim"(requests jsonb, per_task integer, max_age_ms bigint) RETURNS jsonb
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
    token := NULL;

    SELECT r.host, r.pid, r.incarnation, r.fencing_token, r.claim_id INTO held FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name AND r.slot = slot_at;
    IF NOT FOUND THEN
      INSERT INTO "${schema}"."fleetcron_tasks" AS t (task, last_token, record_count) VALUES (task_name, 1, 1)
        ON CONFLICT (task) DO UPDATE SET last_token = t.last_token + 1, record_count = t.record_count + 1
        RETURNING t.last_token, t.record_count INTO token, kept;
      -- Read again now that the counter is held: a task's records are stamped in the order of their tokens.
      now_at := date_trunc('milliseconds', clock_timestamp());
      INSERT INTO "${schema}"."fleetcron_records" (task, slot, state, host, pid, incarnation, fencing_token, claim_id, claimed_at, lease_until)
        VALUES (task_name, slot_at, 'running', request ->> 'host', (request ->> 'pid')::integer, request ->> 'incarnation', token,
          request ->> 'claimId', now_at, now_at + (request ->> 'leaseMs')::bigint * interval '1 millisecond')
        ON CONFLICT (task, slot) DO NOTHING;
      IF FOUND THEN
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
        IF pruned > 0 THEN
          UPDATE "${schema}"."fleetcron_tasks" t SET record_count = kept WHERE t.task = task_name;
        END IF;
      ELSE
        UPDATE "${schema}"."fleetcron_tasks" t SET last_token = t.last_token - 1, record_count = t.record_count - 1 WHERE t.task = task_name;
        token := NULL;
        SELECT r.host, r.pid, r.incarnation, r.fencing_token, r.claim_id INTO held FROM "${schema}"."fleetcron_records" r WHERE r.task = task_name AND r.slot = slot_at;
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
$claim$;
`;
