import pg from 'pg';

/** The test database: PG* variables when set, else the machine's PostgreSQL on 127.0.0.1:5432 (trust auth). */
export const PG_CONFIG: pg.PoolConfig = {
  host: process.env.PGHOST ?? '127.0.0.1',
  port: Number(process.env.PGPORT ?? 5432),
  user: process.env.PGUSER ?? 'postgres',
  database: process.env.PGDATABASE ?? 'postgres',
  connectionTimeoutMillis: 3000,
};

/** True when PostgreSQL answers; otherwise fails (CI) or says that its tests are skipped. */
export async function requirePostgres(): Promise<boolean> {
  const client = new pg.Client(PG_CONFIG);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (error) {
    const message = `PostgreSQL on ${PG_CONFIG.host}:${PG_CONFIG.port} is required by the PostgreSQL tests and is not reachable (${(error as Error).message})`;
    if (process.env.CI) throw new Error(message);
    console.warn(`${message}; skipping them.`);
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}
