// The backend commands against the machine's PostgreSQL, in schemas of this file's own (dropped at the end).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { PostgresRunCoordinator } from '../../src/postgres.js';
import { PG_CONFIG, requirePostgres } from '../support/postgres.js';
import { describeCliBackend } from './backend-cases.js';
import { runCli } from './run-cli.js';

const available = await requirePostgres();
const RUN = `fleetcron_cli_${process.pid}_${randomBytes(3).toString('hex')}`;
const URL_ = `postgres://${PG_CONFIG.user}@${PG_CONFIG.host}:${PG_CONFIG.port}/${PG_CONFIG.database}`;

const pools: pg.Pool[] = [];
function openPool(): pg.Pool {
  const pool = new pg.Pool({ ...PG_CONFIG, max: 2 });
  pool.on('error', () => undefined);
  pools.push(pool);
  return pool;
}

afterAll(async () => {
  if (!available) return;
  const admin = openPool();
  const { rows } = await admin.query<{ nspname: string }>('SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)', [RUN]);
  for (const { nspname } of rows) await admin.query(`DROP SCHEMA "${nspname}" CASCADE`);
  await Promise.all(pools.map((pool) => pool.end()));
});

describeCliBackend('PostgreSQL', available, async () => {
  const schema = `${RUN}_records`;
  const coordinator = new PostgresRunCoordinator(openPool(), { schema, table: 'cli' });
  await coordinator.ensureSchema();
  return { args: ['--postgres', URL_, '--schema', schema, '--table', 'cli'], coordinator, cleanup: async () => undefined };
});

it.runIf(available)('reads create nothing: a schema never used says "no record" and is still not there', async () => {
  const schema = `${RUN}_never`;
  for (const command of ['history', 'state']) {
    const { code, stdout, stderr } = await runCli([command, 'some-task', '--postgres', URL_, '--schema', schema]);
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/no record/);
  }
  const { rowCount } = await openPool().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  expect(rowCount).toBe(0);
});

it.runIf(available)('DATABASE_URL chooses the backend when no option does', async () => {
  const { code, stdout, stderr } = await runCli(['state', 'some-task', '--schema', `${RUN}_never`], { DATABASE_URL: URL_ });
  expect(code, stderr).toBe(0);
  expect(stdout).toContain(`PostgreSQL at ${URL_}`);
});
