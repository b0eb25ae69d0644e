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

const USAGE = `fleetcron-arbiter: answers the elections of the distributed tasks of every app on this host's PM2 daemon.

Run it as a PM2 app beside your apps, in fork mode with one instance:
  { name: 'fleetcron-arbiter', script: require.resolve('fleetcron/pm2-arbiter'), exec_mode: 'fork', instances: 1 }

Environment:
  REDIS_URL               elect through Redis, across every host that shares it (ioredis or redis installed)
  FLEETCRON_REDIS_PREFIX  key prefix in Redis (default 'fleetcron:')
  NODE_CRON_RUN           without Redis: 'true' or 'false', this host is (not) the designated runner
  PM2_HOME                the PM2 daemon to serve (PM2 sets it in every app it runs)
Without REDIS_URL or NODE_CRON_RUN it elects host-locally: one run per fire on this host.
A second arbiter on the same PM2 daemon stands by, and takes over when the first stops.`;

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

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(USAGE);
} else {
  main().catch((error: unknown) => {
    logger.error(`fleetcron-arbiter: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
