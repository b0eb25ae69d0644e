// Three replicas of one app — three processes, as if on three hosts — schedule the same distributed task, and
// Redis elects one of them per fire. Run with one command; it stops by itself after ~6 s.
//   npx tsx examples/redis-ha.ts          (REDIS_URL defaults to redis://127.0.0.1:6379)
// When Redis is not reachable there, it says so and exits with status 1, before starting any replica.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import cron from 'fleetcron';
import { RedisLockCoordinator } from 'fleetcron/redis';

const REPLICAS = 3;
const RUN_FOR_MS = 6000;
const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Why Redis at `url` cannot be used, after one attempt to connect; undefined when it answers. */
async function unreachable(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  // connect() only says "Connection is closed."; the error event has the cause (ECONNREFUSED, ENOTFOUND, ...).
  let cause: Error | undefined;
  probe.on('error', (error: Error) => (cause ??= error));
  try {
    await probe.connect();
    return undefined;
  } catch (error) {
    return (cause ?? (error as Error)).message;
  } finally {
    probe.disconnect();
  }
}

if (process.env.REPLICA === undefined) {
  const reason = await unreachable(url);
  if (reason !== undefined) {
    console.error(`Redis is not reachable at ${url} (${reason}).`);
    console.error('Start one (redis-server, or: docker run -p 6379:6379 redis) or set REDIS_URL to yours, then run this again.');
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
} else {
  const name = `replica ${process.env.REPLICA} (pid ${process.pid})`;
  // Fail fast when Redis is away: the fire is skipped as coordinator-error instead of waiting.
  const redis = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  redis.on('error', (error) => console.error(`${name}: redis: ${error.message}`));

  const start = () => {
    cron.setRunCoordinator(new RedisLockCoordinator(redis, { prefix: 'fleetcron-example:' }));
    const task = cron.schedule('* * * * * *', (ctx) => console.log(`${ctx.date.toISOString().slice(11, 19)}  ${name} ran the fire`), {
      name: 'redis-ha-demo',
      distributed: true,
    });
    task.on('execution:skipped', (ctx) => {
      if (ctx.reason !== 'not-elected') console.log(`${ctx.date.toISOString().slice(11, 19)}  ${name} skipped: ${ctx.reason}`);
    });
  };
  // Scheduled once connected, so that no fire is skipped for a connection still opening.
  redis.once('ready', start);

  const stop = async () => {
    redis.off('ready', start); // a Redis that answers only now starts nothing
    await cron.shutdown();
    redis.disconnect();
  };
  // Stops by itself, even when Redis went away after the launcher saw it and nothing was scheduled.
  setTimeout(() => void stop(), RUN_FOR_MS);
  process.once('SIGTERM', () => void stop());
  // The launcher is gone (killed, say): no replica outlives it, even one still waiting for Redis. (The channel
  // must not keep the replica alive once it has stopped by itself.)
  process.once('disconnect', () => void stop());
  process.channel?.unref();
}
