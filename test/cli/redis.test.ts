// The backend commands against the shared Redis, under a key prefix of this file's own (deleted at the end).
import { Redis } from 'ioredis';
import { expect, it } from 'vitest';
import { RedisLockCoordinator } from '../../src/redis.js';
import { deleteKeysUnder, requireRedis, SHARED_REDIS_URL, uniqueTestPrefix } from '../support/redis-server.js';
import { describeCliBackend } from './backend-cases.js';
import { jsonOf, runCli } from './run-cli.js';

const available = await requireRedis();
const prefix = uniqueTestPrefix();

describeCliBackend('Redis', available, async () => {
  const client = new Redis(SHARED_REDIS_URL);
  return {
    args: ['--redis', SHARED_REDIS_URL, '--prefix', prefix],
    coordinator: new RedisLockCoordinator(client, { prefix }),
    cleanup: async () => {
      client.disconnect();
      await deleteKeysUnder(prefix);
    },
  };
});

it.runIf(available)('REDIS_URL and FLEETCRON_REDIS_PREFIX choose the backend when no option does', async () => {
  const task = 'from-the-environment';
  const env = { REDIS_URL: SHARED_REDIS_URL, FLEETCRON_REDIS_PREFIX: prefix };
  const { slot } = jsonOf<{ slot: number }>(await runCli(['trigger', task, '--json'], env));
  const client = new Redis(SHARED_REDIS_URL);
  try {
    expect(await new RedisLockCoordinator(client, { prefix }).triggers(slot - 1)).toContainEqual({ task, slot });
  } finally {
    client.disconnect();
    await deleteKeysUnder(prefix);
  }
});
