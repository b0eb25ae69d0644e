import { callBounded } from '../coordination/bounded.js';
import { PostgresRunCoordinator } from '../coordination/postgres.js';
import type { FireBackend } from '../coordination/records/backend.js';
import { RedisLockCoordinator } from '../coordination/redis.js';
import { isMissing } from '../pm2/pm2-api.js';
import { CliError, EXIT_UNREACHABLE, EXIT_USAGE, messageOf, redactUrl } from './errors.js';

export const DEFAULT_REDIS_PREFIX = 'fleetcron:';
export const DEFAULT_TIMEOUT_MS = 5000;

/** The backend options every backend command takes (commander's names). */
export interface BackendOptions {
  redis?: string;
  prefix?: string;
  postgres?: string;
  schema?: string;
  table?: string;
  timeout: number;
}

/** What the commands use of a FireBackend. */
export type CliBackend = Pick<FireBackend, 'history' | 'taskState' | 'pause' | 'resume' | 'trigger'>;

export interface Connection {
  readonly backend: CliBackend;
  /** For messages: the URL without its password, and the prefix or schema. */
  readonly description: string;
  close(): Promise<void>;
}

export interface ConnectMode {
  /**
   * Whether PostgreSQL tables may be created (the commands that write). A read creates nothing: one pointed at the
   * wrong database or schema by a typo should say "no record", not leave empty tables there.
   */
  write: boolean;
}

type Choice = { kind: 'redis'; url: string; prefix: string } | { kind: 'postgres'; url: string; schema?: string; table?: string };

/** Which backend the options and environment name; throws a usage CliError when none, both, or mixed options. */
export function chooseBackend(options: BackendOptions, env: NodeJS.ProcessEnv = process.env): Choice {
  if (options.redis !== undefined && options.postgres !== undefined) throw usage('pass either --redis or --postgres, not both');
  let kind: 'redis' | 'postgres';
  if (options.redis !== undefined) kind = 'redis';
  else if (options.postgres !== undefined) kind = 'postgres';
  else if (env.REDIS_URL && env.DATABASE_URL) throw usage('both REDIS_URL and DATABASE_URL are set; pass --redis or --postgres to choose');
  else if (env.REDIS_URL) kind = 'redis';
  else if (env.DATABASE_URL) kind = 'postgres';
  else throw usage('no backend: pass --redis <url> or --postgres <url> (or set REDIS_URL or DATABASE_URL)');

  if (kind === 'redis') {
    if (options.schema !== undefined || options.table !== undefined) throw usage('--schema and --table are PostgreSQL options; with Redis, use --prefix');
    const url = checkUrl(options.redis ?? env.REDIS_URL ?? '', ['redis:', 'rediss:'], 'Redis');
    return { kind, url, prefix: options.prefix ?? (env.FLEETCRON_REDIS_PREFIX || DEFAULT_REDIS_PREFIX) };
  }
  if (options.prefix !== undefined) throw usage('--prefix is a Redis option; with PostgreSQL, use --schema and --table');
  const url = checkUrl(options.postgres ?? env.DATABASE_URL ?? '', ['postgres:', 'postgresql:'], 'PostgreSQL');
  return { kind, url, schema: options.schema, table: options.table };
}

/** Connects to the chosen backend, failing fast: a CliError with EXIT_UNREACHABLE when it does not answer in time. */
export async function connect(options: BackendOptions, mode: ConnectMode): Promise<Connection> {
  const choice = chooseBackend(options);
  return choice.kind === 'redis' ? connectRedis(choice.url, choice.prefix, options.timeout) : connectPostgres(choice, options.timeout, mode);
}

async function connectRedis(url: string, prefix: string, timeoutMs: number): Promise<Connection> {
  const { Redis } = await loadPeer(() => import('ioredis'), 'ioredis', '--redis');
  // No offline queue, no retries and no reconnection: a command to a Redis that is down fails at once.
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: timeoutMs, retryStrategy: () => null });
  // connect() rejects with "Connection is closed." when the socket failed; the 'error' event says why (ECONNREFUSED).
  let cause: unknown;
  client.on('error', (error: Error) => (cause ??= error));
  try {
    await callBounded(() => client.connect(), timeoutMs, 'connecting');
  } catch (error) {
    client.disconnect();
    throw unreachable('Redis', url, cause ?? error);
  }
  // The clock check is for schedulers, whose leases depend on it; here it would only add a warning.
  const backend = new RedisLockCoordinator(client, { prefix, clockCheck: false });
  return { backend, description: `Redis at ${redactUrl(url)} (prefix '${prefix}')`, close: async () => client.disconnect() };
}

async function connectPostgres(choice: Extract<Choice, { kind: 'postgres' }>, timeoutMs: number, mode: ConnectMode): Promise<Connection> {
  const pg = (await loadPeer(() => import('pg'), 'pg', '--postgres')).default;
  const pool = new pg.Pool({ connectionString: choice.url, max: 1, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, statement_timeout: timeoutMs });
  pool.on('error', () => undefined); // an idle connection that breaks; the next query reports it
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw unreachable('PostgreSQL', choice.url, error);
  }
  let coordinator: PostgresRunCoordinator;
  try {
    coordinator = new PostgresRunCoordinator(pool, { schema: choice.schema, table: choice.table, createSchema: mode.write });
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw usage(messageOf(error));
  }
  const where = `schema '${choice.schema ?? 'public'}', table prefix '${choice.table ?? 'fleetcron'}'`;
  return {
    backend: mode.write ? coordinator : readsOfMissingTables(coordinator),
    description: `PostgreSQL at ${redactUrl(choice.url)} (${where})`,
    close: () => pool.end(),
  };
}

/** Reads where the tables were never created (nothing was ever recorded there) answer as for an unknown task. */
function readsOfMissingTables(coordinator: PostgresRunCoordinator): CliBackend {
  const orUnknown = async <T>(read: Promise<T>, unknown: T): Promise<T> => {
    try {
      return await read;
    } catch (error) {
      if ((error as { code?: unknown }).code === UNDEFINED_TABLE) return unknown;
      throw error;
    }
  };
  return {
    history: (task, options) => orUnknown(coordinator.history(task, options), []),
    taskState: (task) => orUnknown(coordinator.taskState(task), { paused: false, runs: 0 }),
    pause: (task) => coordinator.pause(task),
    resume: (task) => coordinator.resume(task),
    trigger: (task) => coordinator.trigger(task),
  };
}

/** SQLSTATE undefined_table (also what a table of a missing schema gets). */
const UNDEFINED_TABLE = '42P01';

async function loadPeer<T>(load: () => Promise<T>, name: string, option: string): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, name)) throw usage(`${option} needs the '${name}' package, which is not installed: npm install ${name}`);
    throw error;
  }
}


function checkUrl(url: string, protocols: string[], what: string): string {
  let protocol: string | undefined;
  try {
    protocol = new URL(url).protocol;
  } catch {
    // reported below
  }
  if (protocol !== undefined && protocols.includes(protocol)) return url;
  throw usage(`not a ${what} URL: ${redactUrl(url)} (expected ${protocols.map((p) => `${p}//…`).join(' or ')})`);
}

function unreachable(what: string, url: string, error: unknown): CliError {
  return new CliError(`cannot reach ${what} at ${redactUrl(url)}: ${messageOf(error)}`, EXIT_UNREACHABLE);
}

function usage(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}
