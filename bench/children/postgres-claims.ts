// What a PostgreSQL claim costs next to the bare write it is measured against, over one connection to the server of
// test/support/postgres.ts: per sample, in turn, a bare `INSERT ... ON CONFLICT DO NOTHING` into a plain table (as
// an app sends it, and as a prepared statement), a single-fire claim that wins (the record written), a claim of a
// fire another host holds, and the end of the won fire; then batches of 100 fires. Round trips are counted on the
// wire, through a proxy, by a second coordinator on the same tables.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PostgresRunCoordinator } from '../../src/postgres.js';
import { startPgRoundTripCounter } from '../../test/support/pg-round-trips.js';
import { PG_CONFIG } from '../../test/support/postgres.js';
import { finish, params } from '../lib/child-io.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface PgClaimsParams {
  samples: number;
  batches: number;
  /** Names this run's schema. */
  runId: string;
}

export interface PgClaimsResult {
  /** µs per call. */
  bare: Summary;
  barePrepared: Summary;
  claim: Summary;
  claimTaken: Summary;
  end: Summary;
  batch: Summary;
  /** Query cycles on the wire per call. */
  tripsPerClaim: number;
  tripsPerBatch: number;
  server: string;
}

const WARM_UP = 200;
const BATCH = 100;
/** Records kept per task: low, so that every claim also drops one, as claims do once a task has a history. */
const PER_TASK = 100;

const { samples, batches, runId } = params<PgClaimsParams>();
const schema = `fleetcron_bench_${runId.replace(/\W/g, '_')}`;
const pool = new pg.Pool({ ...PG_CONFIG, max: 1 });
const counter = await startPgRoundTripCounter(Number(PG_CONFIG.port));
const counted = new pg.Pool({ ...PG_CONFIG, port: counter.port, max: 1 });
let result: PgClaimsResult;
try {
  const coordinator = new PostgresRunCoordinator(pool, { schema, retention: { perTask: PER_TASK } });
  await coordinator.ensureSchema();
  await pool.query(`CREATE TABLE "${schema}".bare (key text PRIMARY KEY)`);
  const other = { host: 'other-host', pid: 1, incarnation: randomUUID() };
  const base = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
  const fire = (task: string, i: number, holder = coordinator.holder) => ({ task, slot: base + i * 1000, leaseMs: 30_000, holder, claimId: randomUUID() });
  await coordinator.claim(Array.from({ length: samples + WARM_UP }, (_, i) => fire('taken', i, other)));

  const times = { bare: [] as number[], barePrepared: [] as number[], claim: [] as number[], claimTaken: [] as number[], end: [] as number[] };
  const time = async (into: number[], keep: boolean, call: () => Promise<unknown>) => {
    const started = performance.now();
    await call();
    if (keep) into.push((performance.now() - started) * 1000);
  };
  for (let i = 0; i < WARM_UP + samples; i++) {
    const keep = i >= WARM_UP;
    const key = `bare:${new Date(base + i * 1000).toISOString()}`;
    await time(times.bare, keep, () => pool.query(`INSERT INTO "${schema}".bare (key) VALUES ($1) ON CONFLICT DO NOTHING`, [key]));
    await time(times.barePrepared, keep, () =>
      pool.query({ name: 'bench-bare', text: `INSERT INTO "${schema}".bare (key) VALUES ($1) ON CONFLICT DO NOTHING`, values: [`${key}:prepared`] }),
    );
    let answer: Awaited<ReturnType<typeof coordinator.claim>>[number] | undefined;
    await time(times.claim, keep, async () => ([answer] = await coordinator.claim([fire('bench', i)])));
    await time(times.claimTaken, keep, () => coordinator.claim([fire('taken', i)]));
    if (!answer?.won) throw new Error(`the claim of a free fire lost: ${JSON.stringify(answer)}`);
    const token = answer.fencingToken;
    await time(times.end, keep, () => coordinator.end([{ task: 'bench', slot: base + i * 1000, fencingToken: token, outcome: { state: 'succeeded', startedAt: Date.now(), endedAt: Date.now() } }]));
  }
  const batch: number[] = [];
  for (let b = 0; b < batches; b++) {
    const requests = Array.from({ length: BATCH }, (_, i) => fire(`batch-${i % 10}`, b * 10 + Math.floor(i / 10)));
    await time(batch, true, () => coordinator.claim(requests));
  }

  const onTheWire = new PostgresRunCoordinator(counted, { schema, retention: { perTask: PER_TASK }, createSchema: false });
  const trips = async (call: () => Promise<unknown>) => {
    counter.reset();
    await call();
    return counter.count();
  };
  await trips(() => onTheWire.history('bench')); // connects
  const tripsPerClaim = await trips(() => onTheWire.claim([fire('wire', 0)]));
  const tripsPerBatch = await trips(() => onTheWire.claim(Array.from({ length: BATCH }, (_, i) => fire(`wire-${i % 10}`, 1 + i))));

  const settings = await pool.query<{ version: string; sync: string }>(
    "SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS sync",
  );
  const { version, sync } = settings.rows[0]!;
  result = {
    bare: summarize(times.bare),
    barePrepared: summarize(times.barePrepared),
    claim: summarize(times.claim),
    claimTaken: summarize(times.claimTaken),
    end: summarize(times.end),
    batch: summarize(batch),
    tripsPerClaim,
    tripsPerBatch,
    server: `PostgreSQL ${version}, synchronous_commit ${sync}`,
  };
} finally {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
  await Promise.all([pool.end(), counted.end()]);
  await counter.close();
}
// After the clean-up: finish() exits once the result is delivered.
finish(result);
