// The backends that keep fire records, as the real-process tests give them to their hosts (test/fixtures/backend.ts
// reads the environment): the machine's Redis and PostgreSQL, each test with its own key prefix or schema.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { PG_CONFIG, requirePostgres } from './postgres.js';
import { deleteKeysUnder, requireRedis, SHARED_REDIS_URL, uniqueTestPrefix } from './redis-server.js';

export interface RecordBackend {
  name: 'Redis' | 'PostgreSQL';
  up: boolean;
  /** The port a proxy goes in front of, and the environment that sends a host through one on `port`. */
  port: number;
  through(port: number): NodeJS.ProcessEnv;
  /** A fresh place in the backend: the environment of its hosts, and how to remove it afterwards. */
  make(): { env: NodeJS.ProcessEnv; cleanup(): Promise<unknown> };
}

export async function recordBackends(): Promise<RecordBackend[]> {
  const [redisUp, postgresUp] = await Promise.all([requireRedis(), requirePostgres()]);
  return [
    {
      name: 'Redis',
      up: redisUp,
      port: 6379,
      through: (port) => ({ REDIS_URL: `redis://127.0.0.1:${port}` }),
      make() {
        const prefix = uniqueTestPrefix();
        return { env: { BACKEND: 'redis', REDIS_URL: SHARED_REDIS_URL, PREFIX: prefix }, cleanup: () => deleteKeysUnder(prefix) };
      },
    },
    {
      name: 'PostgreSQL',
      up: postgresUp,
      port: Number(PG_CONFIG.port),
      through: (port) => ({ PG_PORT: String(port) }),
      make() {
        const schema = `fc_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
        return {
          env: { BACKEND: 'postgres', SCHEMA: schema },
          cleanup: async () => {
            const client = new pg.Client(PG_CONFIG);
            await client.connect();
            await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
            await client.end();
          },
        };
      },
    },
  ];
}
