// PostgresRunCoordinator against a real PostgreSQL (test/support/postgres.ts): the FireBackend contract with two
// pools as two hosts, then what only a shared database can get wrong — first use by processes starting together,
// races, clocks that differ, connections that die mid-claim, round trips. Each describe block works in schemas of
// its own, all dropped at the end.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClaimAnswer, ClaimRequest } from '../../../src/coordination/records/backend.js';
import type { Holder } from '../../../src/coordination/records/fire-record.js';
import { PostgresRunCoordinator, postgresSchemaSql, type PostgresRunCoordinatorOptions } from '../../../src/postgres.js';
import { startPgRoundTripCounter } from '../../support/pg-round-trips.js';
import { PG_CONFIG, requirePostgres } from '../../support/postgres.js';
import { schemaV1Sql } from '../../support/postgres-schema-v1.js';
import { schemaV2Sql } from '../../support/postgres-schema-v2.js';
import { Fixture } from '../../support/processes.js';
import { startTcpProxy } from '../../support/tcp-proxy.js';
import { describeFireBackend } from './contract.js';

const available = await requirePostgres();
const RUN = `fleetcron_test_${process.pid}_${randomBytes(3).toString('hex')}`;
let schemaCount = 0;
const newSchema = () => `${RUN}_${++schemaCount}`;

/** Every pool a test opens; afterAll ends them, then drops every schema of this run. */
const pools = new Set<pg.Pool>();
function openPool(config: pg.PoolConfig = {}): pg.Pool {
  const pool = new pg.Pool({ ...PG_CONFIG, max: 4, ...config });
  // A connection a test kills on purpose emits its error here when idle.
  pool.on('error', () => undefined);
  pools.add(pool);
  return pool;
}
async function endPool(pool: pg.Pool): Promise<void> {
  pools.delete(pool);
  await pool.end();
}

afterAll(async () => {
  await Promise.all([...pools].map(endPool));
  if (!available) return;
  const admin = new pg.Client(PG_CONFIG);
  await admin.connect();
  try {
    const { rows } = await admin.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [RUN]);
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA "${nspname}" CASCADE`);
  } finally {
    await admin.end();
  }
});

const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const holder = (name: string): Holder => ({ host: name, pid: 1000, incarnation: `${name}-incarnation` });
const ask = (task: string, slot: number, who: string, leaseMs = 30_000): ClaimRequest => ({ task, slot, leaseMs, holder: holder(who), claimId: randomUUID() });
const tokenOf = (answer: ClaimAnswer | undefined): number => {
  if (!answer?.won) throw new Error(`expected a won claim, got ${JSON.stringify(answer)}`);
  return answer.fencingToken;
};
/** Coordinators on their own pools (of `max` connections), sharing one fresh schema: hosts of one fleet. */
function fleet(count: number, options: PostgresRunCoordinatorOptions = {}, max = 4): PostgresRunCoordinator[] {
  const schema = options.schema ?? newSchema();
  return Array.from({ length: count }, () => new PostgresRunCoordinator(openPool({ max }), { ...options, schema }));
}
/** As fleet(), run by `test`, its pools ended after it (the whole file would otherwise hold too many connections). */
type Hosts = [PostgresRunCoordinator, PostgresRunCoordinator, ...PostgresRunCoordinator[]];
async function withFleet(count: number, options: PostgresRunCoordinatorOptions, max: number, test: (hosts: Hosts) => Promise<void>): Promise<void> {
  const schema = options.schema ?? newSchema();
  const opened = Array.from({ length: count }, () => openPool({ max }));
  try {
    await test(opened.map((pool) => new PostgresRunCoordinator(pool, { ...options, schema })) as Hosts);
  } finally {
    await Promise.all(opened.map(endPool));
  }
}

describe.runIf(available)('PostgresRunCoordinator on a real PostgreSQL', () => {
  let hosts: [PostgresRunCoordinator, PostgresRunCoordinator];
  let retentionPool: pg.Pool;
  let retentionTables = 0;
  const schema = newSchema();
  beforeAll(() => {
    hosts = fleet(2, { schema }) as [PostgresRunCoordinator, PostgresRunCoordinator];
    retentionPool = openPool();
  });

  describeFireBackend('PostgresRunCoordinator', () => ({
    hosts,
    withRetention: async (perTask) => new PostgresRunCoordinator(retentionPool, { schema, table: `retention_${++retentionTables}`, retention: { perTask } }),
  }));
});

describe.runIf(available)('PostgresRunCoordinator: schema', () => {
  it('processes starting together create the tables and the function once, without errors, and elect one of them', async () => {
    const schema = newSchema();
    const coordinators = fleet(6, { schema }, 1);
    const answers = await Promise.all(coordinators.map((c, i) => c.claim([ask('first-use', SLOT, `host-${i}`)])));
    expect(answers.filter(([answer]) => answer!.won)).toHaveLength(1);
    const pool = openPool();
    const objects = await pool.query<{ name: string; kind: string }>(
      `SELECT relname AS name, relkind::text AS kind FROM pg_class WHERE relnamespace = $1::regnamespace
       UNION ALL SELECT proname, 'f' FROM pg_proc WHERE pronamespace = $1::regnamespace ORDER BY 1`,
      [schema],
    );
    expect(objects.rows).toEqual([
      { name: 'fleetcron_claim', kind: 'f' },
      { name: 'fleetcron_leases', kind: 'r' },
      { name: 'fleetcron_leases_expiry', kind: 'i' },
      { name: 'fleetcron_leases_pkey', kind: 'i' },
      { name: 'fleetcron_records', kind: 'r' },
      { name: 'fleetcron_records_pkey', kind: 'i' },
      { name: 'fleetcron_records_running', kind: 'i' },
      { name: 'fleetcron_tasks', kind: 'r' },
      { name: 'fleetcron_tasks_pkey', kind: 'i' },
      { name: 'fleetcron_triggers', kind: 'r' },
      { name: 'fleetcron_triggers_pkey', kind: 'i' },
    ]);
  });

  it('createSchema: false uses tables made beforehand by postgresSchemaSql(), which can be run again', async () => {
    const schema = newSchema();
    const pool = openPool();
    const coordinator = new PostgresRunCoordinator(pool, { schema, table: 'app_cron', createSchema: false });
    await expect(coordinator.claim([ask('t', SLOT, 'a')])).rejects.toThrow(/does not exist/);
    const sql = postgresSchemaSql({ schema, table: 'app_cron' });
    expect(sql).toContain(`CREATE TABLE IF NOT EXISTS "${schema}"."app_cron_records"`);
    await pool.query(sql);
    await pool.query(sql);
    expect(await coordinator.claim([ask('t', SLOT, 'a')])).toMatchObject([{ won: true, fencingToken: 1 }]);
  });

  it('a database created by the previous version is upgraded on first use, by processes starting together; its records and counters kept', async () => {
    const schema = newSchema();
    const pool = openPool();
    await pool.query(schemaV1Sql(schema));
    // Two fires won through the previous version's claim function, one of them still running.
    const oldClaim = (request: ClaimRequest) =>
      pool.query({
        text: `SELECT "${schema}".fleetcron_claim($1::jsonb, 1000, 604800000) AS answers`,
        values: [JSON.stringify([{ task: request.task, slot: request.slot, leaseMs: request.leaseMs, claimId: request.claimId, ...request.holder }])],
      });
    const task = `upgraded-${randomUUID()}`;
    const [first, second] = [ask(task, SLOT, 'old'), ask(task, SLOT + 1000, 'old')];
    await oldClaim(first);
    await oldClaim(second);

    const coordinators = fleet(4, { schema }, 1);
    await Promise.all(coordinators.map((c) => c.ensureSchema()));
    const [a, b] = coordinators as [PostgresRunCoordinator, PostgresRunCoordinator];
    expect((await a.history(task)).map((r) => [r.slot, r.state, r.fencingToken, r.holder.host])).toEqual([[SLOT + 1000, 'running', 2, 'old'], [SLOT, 'running', 1, 'old']]);
    expect(await a.taskState(task), "the previous version's won claims are its runs").toEqual({ paused: false, runs: 2 });
    expect(await b.claim([second]), 'a resent claim of the previous version wins again').toEqual([{ won: true, fencingToken: 2, runs: 2, lost: [] }]);
    expect(await b.claim([{ ...ask(task, SLOT + 2000, 'b'), overlap: 'skip' }])).toEqual([{ won: false, holder: holder('old'), lost: [], refused: 'overlap' }]);
    expect(await b.claim([{ ...ask(task, SLOT + 3000, 'b'), fleetMax: 2 }])).toEqual([{ won: false, holder: undefined, lost: [], refused: 'limit' }]);
    await a.pause(task);
    expect(await b.claim([ask(task, SLOT + 4000, 'b')])).toEqual([{ won: false, holder: undefined, lost: [], refused: 'paused' }]);
    await a.resume(task);
    expect(await b.claim([ask(task, SLOT + 5000, 'b')])).toEqual([{ won: true, fencingToken: 5, runs: 3, lost: [] }]);
    const triggered = await b.trigger(task);
    expect(await a.triggers(triggered - 1), 'the triggers table is added on first use').toEqual([{ task, slot: triggered }]);
    expect((await a.history(task)).map((r) => [r.slot - SLOT, r.state, r.error?.name])).toEqual([
      [5000, 'running', undefined], [4000, 'skipped', 'Paused'], [2000, 'skipped', 'Overlap'], [1000, 'running', undefined], [0, 'running', undefined],
    ]);
    const { rows } = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"${schema}".fleetcron_records'::regclass AND contype = 'c'`,
    );
    expect(rows.map((row) => row.def)).toEqual([expect.stringMatching(/'skipped'.*'buffered'/)]);
    await expect(pool.query(`INSERT INTO "${schema}".fleetcron_records SELECT task, slot + interval '1 day', 'gone', host, pid, incarnation, 9, 'x', claimed_at, lease_until FROM "${schema}".fleetcron_records LIMIT 1`)).rejects.toThrow(/check constraint/);
    const buffer = (slot: number, who: string) => ({ ...ask(task, slot, who), overlap: 'buffer-one' as const });
    expect(await b.claim([buffer(SLOT + 6000, 'b')]), 'a fire may wait').toEqual([{ won: false, holder: holder('old'), lost: [], refused: 'buffered' }]);
  });

  it('a database created by the version before buffered records is upgraded on first use: its check allows them, its records and counters kept', async () => {
    const schema = newSchema();
    const pool = openPool();
    await pool.query(schemaV2Sql(schema));
    const task = `upgraded-${randomUUID()}`;
    // Records written through that version's claim function: one running, one skipped.
    const oldClaim = (request: ClaimRequest) =>
      pool.query({
        text: `SELECT "${schema}".fleetcron_claim($1::jsonb, 1000, 604800000) AS answers`,
        values: [JSON.stringify([{ task: request.task, slot: request.slot, leaseMs: request.leaseMs, claimId: request.claimId, host: request.holder.host, pid: request.holder.pid, incarnation: request.holder.incarnation, overlap: request.overlap }])],
      });
    const running = ask(task, SLOT, 'old');
    await oldClaim(running);
    await oldClaim({ ...ask(task, SLOT + 1000, 'old'), overlap: 'skip' });
    const before = await pool.query<{ def: string }>(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"${schema}".fleetcron_records'::regclass AND contype = 'c'`,
    );
    expect(before.rows.map((row) => row.def)).toEqual([expect.not.stringContaining("'buffered'")]);

    await withFleet(4, { schema }, 1, async (coordinators) => {
      await Promise.all(coordinators.map((c) => c.ensureSchema()));
      const [a, b] = coordinators;
      expect((await a.history(task)).map((r) => [r.slot - SLOT, r.state, r.fencingToken, r.error?.name])).toEqual([[1000, 'skipped', 2, 'Overlap'], [0, 'running', 1, undefined]]);
      expect(await a.taskState(task)).toEqual({ paused: false, runs: 1 });
      const buffer = (slot: number, who: string) => ({ ...ask(task, slot, who), overlap: 'buffer-one' as const });
      expect(await b.claim([buffer(SLOT + 2000, 'b')])).toEqual([{ won: false, holder: holder('old'), lost: [], refused: 'buffered' }]);
      expect(await a.end([{ task, slot: SLOT, fencingToken: 1, outcome: { state: 'succeeded', startedAt: 1, endedAt: 2 } }])).toEqual([true]);
      expect(await b.claim([buffer(SLOT + 2000, 'b')])).toEqual([{ won: true, fencingToken: 4, runs: 2, lost: [] }]);
      const { rows } = await pool.query<{ def: string }>(
        `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '"${schema}".fleetcron_records'::regclass AND contype = 'c'`,
      );
      expect(rows.map((row) => row.def)).toEqual([expect.stringMatching(/'skipped'.*'buffered'/)]);
    });
    await endPool(pool);
  });

  it('on an up-to-date database the upgrade step alters nothing: first use waits for no lock that claims hold', async () => {
    const schema = newSchema();
    const [first] = fleet(1, { schema });
    await first!.ensureSchema();
    const admin = openPool({ max: 1 });
    const reading = await admin.connect();
    try {
      // What an ALTER TABLE would wait for; the claims' own locks are weaker still.
      await reading.query('BEGIN');
      await reading.query(`LOCK TABLE "${schema}".fleetcron_tasks, "${schema}".fleetcron_records IN ACCESS SHARE MODE`);
      const later = new PostgresRunCoordinator(openPool({ max: 1, options: '-c lock_timeout=2000' }), { schema });
      await expect(later.ensureSchema()).resolves.toBeUndefined();
    } finally {
      await reading.query('ROLLBACK');
      reading.release();
    }
  });

  it('a database that cannot be reached rejects every call, and the schema is tried again on the next', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as { port: number };
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const coordinator = new PostgresRunCoordinator(openPool({ port }), { schema: newSchema() });
    await expect(coordinator.shouldRun(`t:${new Date(SLOT).toISOString()}`, 1000)).rejects.toThrow(/ECONNREFUSED/);
    await expect(coordinator.history('t')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('PostgresRunCoordinator: options', () => {
  const pool = { query: async () => ({ rows: [], rowCount: 0 }), connect: async () => Promise.reject(new Error('unused')) };
  it('refuses names that are not plain identifiers, or too long once suffixed', () => {
    expect(() => new PostgresRunCoordinator(pool, { table: 'cron; DROP TABLE x' })).toThrow(RangeError);
    expect(() => new PostgresRunCoordinator(pool, { schema: '"public"' })).toThrow(RangeError);
    expect(() => new PostgresRunCoordinator(pool, { table: 'x'.repeat(50) })).toThrow(/63 characters/);
    expect(() => new PostgresRunCoordinator(pool, { schema: 'App', table: 'Cron_2' })).not.toThrow();
  });

  it('refuses a retention that is not positive whole numbers, and what is not a pool', () => {
    expect(() => new PostgresRunCoordinator(pool, { retention: { perTask: 0 } })).toThrow(/perTask/);
    expect(() => new PostgresRunCoordinator(pool, { retention: { maxAgeMs: 1.5 } })).toThrow(/maxAgeMs/);
    expect(() => new PostgresRunCoordinator({} as never)).toThrow(/expected a pg.Pool/);
  });
});

describe.runIf(available)('PostgresRunCoordinator: races', () => {
  it('two pools racing for 200 fires, claim by claim: one winner each, tokens unique and in claim order', async () => {
    const [a, b] = fleet(2, {}, 5) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const task = `race-${randomUUID()}`;
    const slots = Array.from({ length: 200 }, (_, i) => SLOT + i * 1000);
    const answers = await Promise.all(slots.map((slot) => Promise.all([a.claim([ask(task, slot, 'a')]), b.claim([ask(task, slot, 'b')])])));
    const winners = answers.map(([[fromA], [fromB]]) => [fromA!, fromB!].filter((answer) => answer.won));
    expect(winners.map((w) => w.length)).toEqual(slots.map(() => 1));
    const tokens = winners.map(([winner]) => tokenOf(winner));
    expect([...tokens].sort((x, y) => x - y)).toEqual(slots.map((_, i) => i + 1));
    // In the order the records were written (claimedAt, the database's clock), the tokens increase.
    const records = (await a.history(task, { limit: 1000 })).sort((x, y) => x.fencingToken - y.fencingToken);
    for (let i = 1; i < records.length; i++) expect(records[i]!.claimedAt).toBeGreaterThanOrEqual(records[i - 1]!.claimedAt);
  });

  it('batches over several tasks sent in opposite orders by two pools: no deadlock, one winner per fire', async () => {
    const [a, b] = fleet(2, {}, 5) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const tasks = Array.from({ length: 4 }, (_, i) => `batch-${i}-${randomUUID()}`);
    const fires = tasks.flatMap((task) => Array.from({ length: 50 }, (_, i) => ({ task, slot: SLOT + i * 1000 })));
    const batches = (who: string, list: typeof fires) => Array.from({ length: 10 }, (_, i) => list.slice(i * 20, i * 20 + 20).map((f) => ask(f.task, f.slot, who)));
    // Interleaved: each batch holds fires of two tasks or more, in opposite orders on the two hosts.
    const interleaved = fires.map((_, i) => fires[(i % 4) * 50 + Math.floor(i / 4)]!);
    const [fromA, fromB] = await Promise.all([
      Promise.all(batches('a', interleaved).map((batch) => a.claim(batch))),
      Promise.all(batches('b', [...interleaved].reverse()).map((batch) => b.claim(batch))),
    ]);
    const won = new Map<string, number>();
    for (const [batch, answers] of [...batches('a', interleaved).map((x, i) => [x, fromA[i]!] as const), ...batches('b', [...interleaved].reverse()).map((x, i) => [x, fromB[i]!] as const)]) {
      batch.forEach((request, i) => {
        if (answers[i]!.won) won.set(`${request.task}@${request.slot}`, (won.get(`${request.task}@${request.slot}`) ?? 0) + 1);
      });
    }
    expect(won.size).toBe(fires.length);
    expect([...won.values()].every((n) => n === 1)).toBe(true);
    for (const task of tasks) {
      const tokens = (await a.history(task, { limit: 100 })).map((r) => r.fencingToken).sort((x, y) => x - y);
      expect(tokens).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    }
  });
});

describe.runIf(available)('PostgresRunCoordinator: triggers under races', () => {
  it('triggers from four pools at once commit in slot order: a poller listing from the last slot it saw misses none', async () => {
    const coordinators = fleet(4);
    const [poller] = coordinators as [PostgresRunCoordinator];
    await Promise.all(coordinators.map((c) => c.ensureSchema()));
    const start = Date.now() - 1000;
    const seen = new Set<string>();
    let lastSeen = start;
    const poll = async () => {
      // From the last slot seen, not after it: a trigger of another task in that same millisecond may commit later.
      for (const { task, slot } of await poller.triggers(lastSeen - 1)) {
        seen.add(`${task}@${slot}`);
        lastSeen = slot;
      }
    };
    let asking = true;
    const polling = (async () => {
      while (asking) await poll();
    })();
    const asked = await Promise.all(
      coordinators.flatMap((c, i) => Array.from({ length: 25 }, async (_, n) => `trigger-race-${i}-${n}@${await c.trigger(`trigger-race-${i}-${n}`)}`)),
    );
    asking = false;
    await polling;
    await poll();
    expect([...seen].sort()).toEqual([...asked].sort());
  });
});

describe.runIf(available)('PostgresRunCoordinator: policies under races', () => {
  it('two pools racing for 100 fires of a task with fleetMax 10: 10 wins in all, the rest refused with limit', async () => {
    const [a, b] = fleet(2, {}, 5) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const task = `limit-race-${randomUUID()}`;
    const slots = Array.from({ length: 50 }, (_, i) => SLOT + i * 1000);
    const answers = (await Promise.all(slots.flatMap((slot) => [a, b].map((c, i) => c.claim([{ ...ask(task, slot + i * 500, i ? 'b' : 'a'), fleetMax: 10 }]))))).flat();
    expect(answers.filter((answer) => answer.won)).toHaveLength(10);
    expect(answers.filter((answer) => !answer.won && answer.refused === 'limit')).toHaveLength(90);
    expect(answers.flatMap((answer) => (answer.won ? [answer.runs] : [])).sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await a.taskState(task)).toEqual({ paused: false, runs: 10 });
    expect((await a.history(task, { limit: 1000 })).map((r) => r.fencingToken).sort((x, y) => x - y)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it("two pools racing for 40 fires of a task with overlap 'skip': one runs, every other is skipped once, naming it", async () => {
    const [a, b] = fleet(2, {}, 5) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const task = `overlap-race-${randomUUID()}`;
    const slots = Array.from({ length: 20 }, (_, i) => SLOT + i * 1000);
    const answers = (await Promise.all(slots.flatMap((slot) => [a, b].map((c, i) => c.claim([{ ...ask(task, slot + i * 500, i ? 'b' : 'a'), overlap: 'skip' }]))))).flat();
    const won = answers.filter((answer) => answer.won);
    expect(won).toHaveLength(1);
    const running = (await a.history(task, { limit: 100 })).find((r) => r.state === 'running')!;
    expect(answers.filter((answer) => !answer.won && answer.refused === 'overlap' && answer.holder?.host === running.holder.host)).toHaveLength(39);
    const skipped = (await a.history(task, { limit: 100 })).filter((r) => r.state === 'skipped');
    expect(skipped).toHaveLength(39);
    expect(new Set(skipped.map((r) => r.error?.message))).toEqual(new Set([`fire ${new Date(running.slot).toISOString()} of the task was still running`]));
  });

  it("two pools racing for 40 fires of a task with overlap 'buffer-one': one runs, one waits, the rest are skipped; of its claimant's asks at once, one runs it", () =>
    withFleet(2, {}, 5, async ([a, b]) => {
      const task = `buffer-race-${randomUUID()}`;
      const slots = Array.from({ length: 20 }, (_, i) => SLOT + i * 1000);
      const answers = (await Promise.all(slots.flatMap((slot) => [a, b].map((c, i) => c.claim([{ ...ask(task, slot + i * 500, i ? 'b' : 'a'), overlap: 'buffer-one' }]))))).flat();
      expect(answers.filter((answer) => answer.won)).toHaveLength(1);
      expect(answers.filter((answer) => !answer.won && answer.refused === 'buffered')).toHaveLength(1);
      expect(answers.filter((answer) => !answer.won && answer.refused === 'overlap')).toHaveLength(38);
      const records = await a.history(task, { limit: 100 });
      const running = records.find((r) => r.state === 'running')!;
      const waiting = records.find((r) => r.state === 'buffered')!;
      expect(records.filter((r) => r.state === 'skipped')).toHaveLength(38);
      expect(await a.end([{ task, slot: running.slot, fencingToken: running.fencingToken, outcome: { state: 'succeeded', startedAt: 1, endedAt: 2 } }])).toEqual([true]);
      const again = () => ({ task, slot: waiting.slot, leaseMs: 30_000, holder: waiting.holder, claimId: randomUUID(), overlap: 'buffer-one' as const });
      const asks = (await Promise.all([a, b, a, b, a, b].map((c) => c.claim([again()])))).flat();
      const won = asks.filter((answer) => answer.won);
      expect(won).toEqual([{ won: true, fencingToken: 41, runs: 2, lost: [] }]);
      expect(asks.filter((answer) => !answer.won && answer.holder?.host === waiting.holder.host)).toHaveLength(5);
    }));

  it('a batch sees its own earlier claims: of one task with overlap skip, the first runs; with fleetMax 2, two win', async () => {
    const [coordinator] = fleet(1);
    const [overlapping, limited] = [`batch-overlap-${randomUUID()}`, `batch-limit-${randomUUID()}`];
    const answers = await coordinator!.claim([
      ...[0, 1, 2].map((i) => ({ ...ask(overlapping, SLOT + i * 1000, 'a'), overlap: 'skip' as const })),
      ...[0, 1, 2].map((i) => ({ ...ask(limited, SLOT + i * 1000, 'a'), fleetMax: 2 })),
    ]);
    expect(answers.map((answer) => (answer.won ? `won ${answer.runs}` : answer.refused))).toEqual(['won 1', 'overlap', 'overlap', 'won 1', 'won 2', 'limit']);
  });
});

describe.runIf(available)('PostgresRunCoordinator: clocks', () => {
  it("leases are judged by the database's clock: hosts an hour ahead and an hour behind agree with the others", async () => {
    const schema = newSchema();
    const [a] = fleet(1, { schema });
    const task = `clock-${randomUUID()}`;
    const token = tokenOf((await a!.claim([ask(task, SLOT, 'a', 30_000)]))[0]);
    const shifted = async (offsetMs: number, slot: number) => {
      const host = new Fixture('postgres-shifted-host.ts', { SCHEMA: schema, TASK: task, SLOT: String(slot), LEASE_MS: '300', CLOCK_OFFSET_MS: String(offsetMs) });
      try {
        await host.until((reports) => reports.length > 0, 20_000, "the shifted host's claim");
        expect(await host.exit()).toMatchObject({ code: 0 });
        return host.reports[0]! as unknown as { answer: ClaimAnswer; record: { claimedAt: number; leaseUntil: number }; localNow: number };
      } finally {
        await host.stop();
      }
    };

    // An hour ahead: a's lease of 30 s still runs; its own record is stamped with the database's time.
    const ahead = await shifted(3_600_000, SLOT + 1000);
    expect(ahead.answer).toMatchObject({ won: true, lost: [] });
    expect(ahead.localNow - Date.now()).toBeGreaterThan(3_500_000);
    expect(Math.abs(ahead.record.claimedAt - Date.now())).toBeLessThan(60_000);
    expect(ahead.record.leaseUntil - ahead.record.claimedAt).toBe(300);
    expect(await a!.renew(task, SLOT, token, 30_000)).toBe(true);

    // An hour behind, once the ahead host's 300 ms lease has passed on the database's clock: it finds that record lost.
    await sleep(500);
    const behind = await shifted(-3_600_000, SLOT + 2000);
    expect(behind.answer.won).toBe(true);
    expect(behind.answer.lost.map((r) => [r.slot, r.holder.host])).toEqual([[SLOT + 1000, 'shifted']]);
  });
});

describe.runIf(available)('PostgresRunCoordinator: connections that die mid-claim', () => {
  it('cut after the statement, before its reply: the claim rejects, and the record is there whole, which a resend wins again', async () => {
    const schema = newSchema();
    const proxy = await startTcpProxy(Number(PG_CONFIG.port));
    try {
      const viaProxy = new PostgresRunCoordinator(openPool({ port: proxy.port, max: 1 }), { schema });
      const [direct] = fleet(1, { schema });
      await viaProxy.ensureSchema();
      const task = `cut-${randomUUID()}`;
      const request = ask(task, SLOT, 'a');
      const cut = proxy.cutAfterRequest(task);
      await expect(viaProxy.claim([request])).rejects.toThrow();
      await cut;
      expect((await direct!.history(task)).map((r) => [r.slot, r.state, r.fencingToken, r.holder.host])).toEqual([[SLOT, 'running', 1, 'a']]);
      expect(await direct!.claim([request])).toEqual([{ won: true, fencingToken: 1, runs: 1, lost: [] }]);
      expect(await direct!.claim([ask(task, SLOT + 1000, 'b')])).toMatchObject([{ won: true, fencingToken: 2 }]);
    } finally {
      await proxy.close();
    }
  });

  it("killed while the statement runs (pg_terminate_backend): the claim rejects and leaves nothing, not even a token", async () => {
    const schema = newSchema();
    const application = `${RUN}-victim`;
    const [direct] = fleet(1, { schema });
    const victim = new PostgresRunCoordinator(openPool({ application_name: application, max: 1 }), { schema });
    const task = `killed-${randomUUID()}`;
    expect(tokenOf((await direct!.claim([ask(task, SLOT, 'a')]))[0])).toBe(1);
    await victim.ensureSchema();

    // Holds the task's counter row, so the victim's claim stops inside its statement, waiting for it.
    const admin = openPool({ max: 2 });
    const holding = await admin.connect();
    try {
      await holding.query('BEGIN');
      await holding.query(`SELECT 1 FROM "${schema}".fleetcron_tasks WHERE task = $1 FOR UPDATE`, [task]);
      const claim = victim.claim([ask(task, SLOT + 1000, 'victim')]);
      claim.catch(() => undefined);
      const waiting = async () =>
        (await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", [application])).rows;
      await expect.poll(async () => (await waiting()).length, { timeout: 10_000 }).toBe(1);
      await admin.query('SELECT pg_terminate_backend($1)', [(await waiting())[0]!.pid]);
      await expect(claim).rejects.toThrow(/terminat/);
    } finally {
      await holding.query('ROLLBACK');
      holding.release();
    }
    expect((await direct!.history(task)).map((r) => r.slot)).toEqual([SLOT]);
    expect(await direct!.claim([ask(task, SLOT + 1000, 'b')])).toMatchObject([{ won: true, fencingToken: 2 }]);
  });
});

describe.runIf(available)('PostgresRunCoordinator: one round trip per call', () => {
  it('claims a batch of 100 fires in one round trip; renew, end, history, shouldRun, pause, resume, taskState, trigger and triggers take one each', async () => {
    const counter = await startPgRoundTripCounter(Number(PG_CONFIG.port));
    try {
      const coordinator = new PostgresRunCoordinator(openPool({ port: counter.port, max: 1 }), { schema: newSchema() });
      await coordinator.ensureSchema();
      const tasks = Array.from({ length: 10 }, () => `trips-${randomUUID()}`);
      const trips = async (call: () => Promise<unknown>) => {
        counter.reset();
        await call();
        return counter.count();
      };
      let answers: ClaimAnswer[] = [];
      expect(await trips(async () => (answers = await coordinator.claim(tasks.flatMap((task) => Array.from({ length: 10 }, (_, i) => ask(task, SLOT + i * 1000, 'a'))))))).toBe(1);
      expect(answers.every((answer) => answer.won)).toBe(true);
      const token = tokenOf(answers[0]);
      expect(await trips(() => coordinator.renew(tasks[0]!, SLOT, token, 30_000))).toBe(1);
      const done = { state: 'succeeded', startedAt: 1, endedAt: 2 } as const;
      expect(await trips(() => coordinator.end([{ task: tasks[0]!, slot: SLOT, fencingToken: token, outcome: done }, { task: tasks[1]!, slot: SLOT, fencingToken: token, outcome: done }]))).toBe(1);
      expect(await trips(() => coordinator.history(tasks[0]!))).toBe(1);
      expect(await trips(() => coordinator.shouldRun(`${tasks[1]}:${new Date(SLOT + 60_000).toISOString()}`, 30_000))).toBe(1);
      expect(await trips(() => coordinator.shouldRun('a key of my own', 30_000))).toBe(1);
      expect(await trips(() => coordinator.pause(tasks[2]!))).toBe(1);
      expect(await trips(() => coordinator.resume(tasks[2]!))).toBe(1);
      expect(await trips(() => coordinator.taskState(tasks[2]!))).toBe(1);
      let triggered = 0;
      expect(await trips(async () => (triggered = await coordinator.trigger(tasks[4]!)))).toBe(1);
      expect(await trips(() => coordinator.triggers(triggered - 1))).toBe(1);
      expect(await trips(() => coordinator.claim([{ ...ask(tasks[3]!, SLOT + 60_000, 'a'), overlap: 'skip', fleetMax: 100 }]))).toBe(1);
      expect(await trips(() => coordinator.claim([]))).toBe(0);
    } finally {
      await counter.close();
    }
  });
});

describe.runIf(available)('PostgresRunCoordinator: beyond the contract', () => {
  it('shouldRun claims a fire key for its own holder; any other key gets a lease, won again once it has passed', async () => {
    const [a, b] = fleet(2) as [PostgresRunCoordinator, PostgresRunCoordinator];
    const task = `plain-${randomUUID()}`;
    expect(await a.shouldRun(`${task}:${new Date(SLOT).toISOString()}`, 30_000)).toBe(true);
    expect(await b.history(task)).toMatchObject([{ slot: SLOT, state: 'running', holder: a.holder }]);
    expect(a.holder).toMatchObject({ host: expect.any(String), pid: process.pid });
    expect(a.holder.incarnation).not.toBe(b.holder.incarnation);

    const key = `lock-${randomUUID()}`;
    expect(await a.shouldRun(key, 200)).toBe(true);
    expect(await b.shouldRun(key, 200)).toBe(false);
    await sleep(300);
    expect(await b.shouldRun(key, 200)).toBe(true);
    expect(await b.history(key)).toEqual([]);
  });

  it('retention by age drops records older than maxAgeMs once their lease has passed; the counter goes on', async () => {
    const [coordinator] = fleet(1, { retention: { maxAgeMs: 200 } });
    const task = `age-${randomUUID()}`;
    await coordinator!.claim([ask(task, SLOT, 'a', 50), ask(task, SLOT + 1000, 'a', 60_000)]);
    await sleep(300);
    expect(await coordinator!.claim([ask(task, SLOT + 2000, 'a', 50)])).toMatchObject([{ won: true, fencingToken: 3 }]);
    expect((await coordinator!.history(task)).map((r) => r.slot)).toEqual([SLOT + 2000, SLOT + 1000]);
  });

  it('retention never lowers runs; records it dropped do not make a fleetMax claim win', async () => {
    const [coordinator] = fleet(1, { retention: { perTask: 1 } });
    const task = `runs-kept-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await coordinator!.claim([ask(task, SLOT + i * 1000, 'a', 20)]);
    await sleep(50);
    await coordinator!.claim([ask(task, SLOT + 3000, 'a', 20)]);
    expect(await coordinator!.history(task, { limit: 100 })).toHaveLength(1);
    expect(await coordinator!.taskState(task)).toEqual({ paused: false, runs: 4 });
    expect(await coordinator!.claim([{ ...ask(task, SLOT + 4000, 'a'), fleetMax: 4 }])).toMatchObject([{ won: false, refused: 'limit' }]);
  });

  it('a lost record is reported with the first claim of its task in the batch, as asked', async () => {
    const [coordinator] = fleet(1);
    const [early, late] = [`b-${randomUUID()}`, `a-${randomUUID()}`];
    await coordinator!.claim([ask(early, SLOT, 'a', 50), ask(late, SLOT, 'a', 50)]);
    await sleep(150);
    const answers = await coordinator!.claim([ask(early, SLOT + 2000, 'a'), ask(late, SLOT + 1000, 'a'), ask(early, SLOT + 1000, 'a'), ask(late, SLOT + 2000, 'a')]);
    expect(answers.map((answer) => answer.lost.map((r) => r.task))).toEqual([[early], [late], [], []]);
    expect(answers.map(tokenOf)).toEqual([2, 2, 3, 3]);
  });
});
