import type { Redis } from 'ioredis';
import { MemoryRunCoordinator } from '../../src/coordination/memory.js';
import type { RunCoordinator } from '../../src/index.js';
import { RedisLockCoordinator } from '../../src/redis.js';
import type { LibraryName } from './libraries.js';
import { ioRedisLock, NodeCronRedisLock, nodeRedisLock } from './node-cron-redis-lock.js';
import type { NodeRedisClient } from './redis-clients.js';

/** The coordinators the election bench compares, in table order. */
export const COORDINATORS = ['none', 'MemoryRunCoordinator', 'Redis lock, ioredis', 'Redis lock, node-redis'] as const;
export type CoordinatorName = (typeof COORDINATORS)[number];

export const REDIS_COORDINATORS = ['Redis lock, ioredis', 'Redis lock, node-redis'] as const satisfies readonly CoordinatorName[];

/** The clients and batch sizes the fire-record figures are measured with. */
export const RECORD_CLIENTS = ['ioredis', 'node-redis'] as const;
export const RECORD_BATCH_SIZES = [1, 100] as const;

export interface RedisClients {
  ioredis: Redis;
  nodeRedis: NodeRedisClient;
}

/**
 * A fresh coordinator of that kind for `library`: fleetcron's own; node-cron 4.6 gets the same in-memory one, and
 * for Redis the lock its documentation shows. Keys go under `prefix`.
 */
export function coordinatorFor(library: LibraryName, name: CoordinatorName, clients: RedisClients, prefix: string): RunCoordinator | undefined {
  switch (name) {
    case 'none':
      return undefined;
    case 'MemoryRunCoordinator':
      return new MemoryRunCoordinator();
    case 'Redis lock, ioredis':
      return library === 'fleetcron' ? new RedisLockCoordinator(clients.ioredis, { prefix }) : new NodeCronRedisLock(ioRedisLock(clients.ioredis), prefix);
    case 'Redis lock, node-redis':
      return library === 'fleetcron' ? new RedisLockCoordinator(clients.nodeRedis, { prefix }) : new NodeCronRedisLock(nodeRedisLock(clients.nodeRedis), prefix);
  }
}
