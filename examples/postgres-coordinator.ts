// A RunCoordinator of your own, on PostgreSQL: the interface is all it takes (README, "Your own coordinator").
// The database's clock decides when a claim expires, so replicas whose clocks differ still agree.
// Run it to see three replicas — three processes, as if on three hosts — share one distributed task through it,
// each fire run by one of them; it stops by itself after ~6 s:
//   npx tsx examples/postgres-coordinator.ts   (DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/postgres)
// When PostgreSQL cannot be used there, it says so and exits with status 1, before starting any replica.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import cron, { type RunCoordinator } from 'fleetcron';

export async function postgresCoordinator(pool: pg.Pool, table = 'cron_claims'): Promise<RunCoordinator> {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (key text PRIMARY KEY, expires_at timestamptz NOT NULL)`);
  return {
    // Wins when nobody holds the fire's key, or its holder's lease has run out.
    async shouldRun(key, ttlMs) {
      const { rowCount } = await pool.query(
        `INSERT INTO ${table} (key, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
         ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE ${table}.expires_at < now()`,
        [key, ttlMs],
      );
      return rowCount === 1;
    },
    // The fire's own claim stays until its lease ends (a late replica must still find it); expired ones go.
    async onComplete() {
      await pool.query(`DELETE FROM ${table} WHERE expires_at < now()`);
    },
  };
}

const REPLICAS = 3;
const RUN_FOR_MS = 6000;
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function launchReplicas(): Promise<void> {
  // Creates the table once, before the replicas start (concurrent CREATE TABLE IF NOT EXISTS can fail), and finds
  // out whether PostgreSQL is there.
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  const unusable = await postgresCoordinator(pool).then(() => undefined, (error: Error) => error.message);
  await pool.end();
  if (unusable !== undefined) {
    console.error(`PostgreSQL cannot be used at ${url} (${unusable}).`);
    console.error('Start one (docker run -e POSTGRES_HOST_AUTH_METHOD=trust -p 5432:5432 postgres) or set DATABASE_URL to yours, then run this again.');
    process.exit(1);
  }

  console.log(`launching ${REPLICAS} replicas against ${url}`);
  const children = Array.from({ length: REPLICAS }, (_, i) => fork(fileURLToPath(import.meta.url), { env: { ...process.env, REPLICA: String(i + 1) } }));
  let left = children.length;
  for (const child of children) {
    child.on('exit', (code) => {
      if (code !== 0) process.exitCode = 1;
      if (--left === 0) console.log('all replicas stopped');
    });
  }
  process.once('SIGINT', () => children.forEach((child) => child.kill('SIGTERM')));
}

async function runReplica(name: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: 5000 });
  // An idle connection that breaks (the server restarts, say) is reported here instead of crashing the replica.
  pool.on('error', (error) => console.error(`${name}: postgres: ${error.message}`));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await cron.shutdown();
      await pool.end();
    })());
  setTimeout(() => void stop(), RUN_FOR_MS);
  process.once('SIGTERM', () => void stop());
  // The launcher is gone (killed, say): no replica outlives it. (The channel must not keep the replica alive once it
  // has stopped by itself.)
  process.once('disconnect', () => void stop());
  process.channel?.unref();

  const coordinator = await postgresCoordinator(pool);
  if (stopping) return; // stopped (Ctrl-C) while connecting
  cron.setRunCoordinator(coordinator);
  const task = cron.schedule('* * * * * *', (ctx) => console.log(`${ctx.date.toISOString().slice(11, 19)}  ${name} ran the fire`), {
    name: 'postgres-demo',
    distributed: true,
  });
  task.on('execution:skipped', (ctx) => {
    if (ctx.reason !== 'not-elected') console.log(`${ctx.date.toISOString().slice(11, 19)}  ${name} skipped: ${ctx.reason}`);
  });
}

// The demo runs when this file is run, not when it is imported (as the tests import postgresCoordinator).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.env.REPLICA === undefined) await launchReplicas();
  else await runReplica(`replica ${process.env.REPLICA} (pid ${process.pid})`);
}
