import { RedisLockCoordinator } from '../coordination/redis.js';
import type { Logger } from '../types.js';
import { isMissing } from './pm2-api.js';

/** The arbiter's upstream when REDIS_URL is set: one claim per fire per host, shared by every host. */
export interface RedisUpstream {
  readonly coordinator: RedisLockCoordinator;
  /** For the log: the URL without its password, and the client library. */
  readonly description: string;
  close(): Promise<void>;
}

interface ConnectedClient {
  client: ConstructorParameters<typeof RedisLockCoordinator>[0];
  library: string;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;

/** Connects with ioredis, else node-redis, whichever is installed. Redis being down is not fatal: fires fail closed. */
export async function connectRedis(url: string, prefix: string | undefined, logger: Logger): Promise<RedisUpstream> {
  const connected = (await withIoRedis(url, logger)) ?? (await withNodeRedis(url, logger));
  if (!connected) {
    throw new Error("REDIS_URL is set, but neither 'ioredis' nor 'redis' is installed; install one of them (npm install ioredis)");
  }
  return {
    coordinator: new RedisLockCoordinator(connected.client, { prefix, clockCheck: { logger } }),
    description: `Redis at ${redact(url)} (${connected.library}${prefix === undefined ? '' : `, key prefix '${prefix}'`})`,
    close: connected.close,
  };
}

// Both clients are set up to fail fast: while Redis is unreachable a claim is refused at once (the fire is skipped as
// coordinator-error) instead of being queued until the election times out.

async function withIoRedis(url: string, logger: Logger): Promise<ConnectedClient | undefined> {
  const library = await optional(() => import('ioredis'), 'ioredis');
  if (!library) return undefined;
  const client = new library.Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  const health = outageLog(logger);
  client.on('error', health.down);
  client.on('ready', health.up);
  await bounded(new Promise<void>((resolve) => client.once('ready', () => resolve())), url, logger);
  return { client, library: 'ioredis', close: async () => client.disconnect() };
}

async function withNodeRedis(url: string, logger: Logger): Promise<ConnectedClient | undefined> {
  const library = await optional(() => import('redis'), 'redis');
  if (!library) return undefined;
  const client = library.createClient({ url, disableOfflineQueue: true });
  const health = outageLog(logger);
  client.on('error', health.down);
  client.on('ready', health.up);
  await bounded(client.connect().then(() => undefined), url, logger);
  return { client, library: 'redis', close: () => client.disconnect() };
}

async function optional<T>(load: () => Promise<T>, name: string): Promise<T | undefined> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, name)) return undefined;
    throw error;
  }
}

/** Logs the first error of each outage and the recovery, not every reconnection attempt. */
function outageLog(logger: Logger): { down(error: Error): void; up(): void } {
  let healthy = true;
  return {
    down(error) {
      if (!healthy) return;
      healthy = false;
      logger.warn(`fleetcron-arbiter: Redis error: ${error.message}; distributed fires are skipped (coordinator-error) until Redis answers again`);
    },
    up() {
      if (healthy) return;
      healthy = true;
      logger.info('fleetcron-arbiter: Redis answers again');
    },
  };
}

async function bounded(ready: Promise<void>, url: string, logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS)));
  const inTime = await Promise.race([ready.then(() => true, () => false), late]);
  clearTimeout(timer);
  if (!inTime) logger.warn(`fleetcron-arbiter: Redis at ${redact(url)} is not reachable yet; distributed fires are skipped (coordinator-error) until it is`);
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(REDIS_URL, not a URL)';
  }
}
