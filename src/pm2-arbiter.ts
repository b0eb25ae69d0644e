#!/usr/bin/env node
/**
 * The fleetcron arbiter for PM2: run it as a fork-mode app with `instances: 1` beside your apps, e.g.
 * `{ name: 'fleetcron-arbiter', script: require.resolve('fleetcron/pm2-arbiter'), exec_mode: 'fork', instances: 1 }`.
 * It elects through Redis when REDIS_URL is set (key prefix FLEETCRON_REDIS_PREFIX, default 'fleetcron:'), else
 * host-locally, for every app on this PM2 daemon. A second arbiter on the same daemon stands by until the first stops.
 */
import { globalLogger as logger } from './logger.js';
import { connectRedis, type RedisUpstream } from './pm2/redis-upstream.js';
import { servePm2, type Pm2AuthorityHandle } from './pm2/serve.js';

const SHUTDOWN_TIMEOUT_MS = 3000;

async function main(): Promise<void> {
  const { REDIS_URL, FLEETCRON_REDIS_PREFIX, NODE_CRON_RUN } = process.env;
  const redis = REDIS_URL ? await connectRedis(REDIS_URL, FLEETCRON_REDIS_PREFIX, logger) : undefined;
  let handle: Pm2AuthorityHandle;
  try {
    handle = await servePm2(redis ? { coordinator: redis.coordinator } : {});
  } catch (error) {
    await redis?.close();
    throw error;
  }
  const coordinator =
    redis?.description ?? (NODE_CRON_RUN === undefined ? 'host-local election (set REDIS_URL to elect across hosts)' : `NODE_CRON_RUN=${NODE_CRON_RUN} (designated runner)`);
  stopOnSignal(handle, redis);
  await handle.serving;
  logger.info(`fleetcron-arbiter: serving elections for the PM2 daemon at PM2_HOME=${handle.pm2Home}; coordinator: ${coordinator}`);
}

function stopOnSignal(handle: Pm2AuthorityHandle, redis: RedisUpstream | undefined): void {
  const stop = (signal: NodeJS.Signals): void => {
    logger.info(`fleetcron-arbiter: ${signal} received, stopping`);
    const timer = setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    Promise.all([handle.close(), redis?.close()]).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('fleetcron-arbiter: error while stopping', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  logger.error(`fleetcron-arbiter: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
