// The `fleetcron/redis` entry: the Redis coordinator, kept apart so the main entry never needs a Redis client.
export { RedisLockCoordinator, type ClockCheckOptions, type RedisLockCoordinatorOptions, type RedisClientLike, type IoRedisClientLike, type NodeRedisClientLike, type NodeRedisPipelineLike, type WaitForReplicasOptions } from './coordination/redis.js';
