// A RunCoordinator of your own, on PostgreSQL: the interface is all it takes (README, "Your own coordinator").
// The database's clock decides when a claim expires, so replicas whose clocks differ still agree.
import type pg from 'pg';
import type { RunCoordinator } from 'fleetcron';

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
