import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { postgresCoordinator } from '../../examples/postgres-coordinator.js';
import cron, { type RunCoordinator } from '../../src/index.js';
import { recordingLogger } from '../support/quiet-logger.js';
import { PG_CONFIG, requirePostgres } from '../support/postgres.js';

// The example imports `fleetcron` (its demo schedules a task), which tsx reads as the sources and vitest as the build:
// the sources here too, as this file's own `cron`.
vi.mock('fleetcron', () => import('../../src/index.js'));

const available = await requirePostgres();
const table = `fleetcron_test_${process.pid}_${randomBytes(3).toString('hex')}`;

// One pool per simulated replica: each has connections of its own, as separate processes would.
const pools: pg.Pool[] = [];
let replicas: RunCoordinator[] = [];

beforeAll(async () => {
  if (!available) return;
  pools.push(...Array.from({ length: 5 }, () => new pg.Pool({ ...PG_CONFIG, max: 4 })));
  replicas = [await postgresCoordinator(pools[0]!, table)];
  replicas.push(...(await Promise.all(pools.slice(1).map((pool) => postgresCoordinator(pool, table)))));
});

afterAll(async () => {
  await pools[0]?.query(`DROP TABLE IF EXISTS ${table}`);
  await Promise.all(pools.map((pool) => pool.end()));
});

const count = async (): Promise<number> => Number((await pools[0]!.query(`SELECT count(*) FROM ${table}`)).rows[0].count);

describe.runIf(available)("the README's PostgreSQL coordinator (examples/postgres-coordinator.ts) against a real PostgreSQL", () => {
  it('elects exactly one of 5 replicas for each of 20 fires claimed at the same moment', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `race:2026-01-01T00:00:${String(i).padStart(2, '0')}.000Z`);
    const verdicts = await Promise.all(keys.map((key) => Promise.all(replicas.map((r) => r.shouldRun(key, 60_000)))));
    expect(verdicts.map((v) => v.filter(Boolean).length)).toEqual(keys.map(() => 1));
  });

  it('keeps a completed fire claimed until its lease ends, drops expired claims, and lets an expired fire be won again', async () => {
    const [a, b] = replicas as [RunCoordinator, RunCoordinator];
    expect(await a.shouldRun('short:1', 200)).toBe(true);
    expect(await a.shouldRun('long:1', 60_000)).toBe(true);
    await a.onComplete?.('long:1');
    // A late replica reaching the completed fire still finds it taken.
    expect(await b.shouldRun('long:1', 60_000)).toBe(false);

    await sleep(400);
    const before = await count();
    await a.onComplete?.('long:1');
    expect(await count()).toBe(before - 1); // short:1 expired and was dropped; long:1 stays
    expect(await b.shouldRun('long:1', 60_000)).toBe(false);
    expect(await b.shouldRun('short:1', 200)).toBe(true);
  });

  it('as the runCoordinator of 3 tasks of one name (3 replicas): every fire runs exactly once', async () => {
    const runs = new Map<string, number>();
    const logger = recordingLogger();
    const tasks = replicas.slice(0, 3).map((runCoordinator) =>
      cron.schedule('* * * * * *', (ctx) => void runs.set(ctx.date.toISOString(), (runs.get(ctx.date.toISOString()) ?? 0) + 1), {
        name: `pg-${table}`,
        distributed: true,
        runCoordinator,
        logger,
      }),
    );
    try {
      await expect.poll(() => runs.size, { timeout: 10_000, interval: 100 }).toBeGreaterThanOrEqual(4);
    } finally {
      await Promise.all(tasks.map((task) => task.destroy()));
    }
    expect([...runs.values()].every((n) => n === 1)).toBe(true);
    expect(logger.of('error')).toEqual([]);
  }, 15_000);
});
