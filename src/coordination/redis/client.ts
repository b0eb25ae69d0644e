import { inspect } from 'node:util';

/** The part of an ioredis (v4+) `Redis` or `Cluster` the coordinator uses. */
export interface IoRedisClientLike {
  readonly status: string;
  set(key: string, value: string, expiryMode: 'PX', ttlMs: number, condition: 'NX'): Promise<unknown>;
  time(): Promise<unknown>;
}

/** The part of a node-redis (v4+) client, cluster or pool the coordinator uses. */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
  /** Missing on node-redis v4 clusters, which then cannot check the clock. */
  time?(): Promise<unknown>;
}

export type RedisClientLike = IoRedisClientLike | NodeRedisClientLike;

/** The two commands the coordinator sends, whichever client carries them. */
export interface RedisCommands {
  /** `SET key value NX PX ttlMs`: true iff the key was set. */
  setNx(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Redis `TIME`, in ms since the epoch. */
  timeMs(): Promise<number>;
}

/** Recognises the client family from its shape, so neither package is needed at runtime. */
export function redisCommands(client: unknown): RedisCommands {
  if (isIoRedis(client)) {
    return {
      setNx: async (key, value, ttlMs) => isOk(await client.set(key, value, 'PX', ttlMs, 'NX')),
      timeMs: async () => epochMs(await client.time()),
    };
  }
  if (isNodeRedis(client)) {
    return {
      setNx: async (key, value, ttlMs) => isOk(await client.set(key, value, { NX: true, PX: ttlMs })),
      timeMs: async () => {
        if (!client.time) {
          throw new TypeError('RedisLockCoordinator: this node-redis client has no time() (a v4 cluster?), so the clock cannot be checked');
        }
        return epochMs(await client.time());
      },
    };
  }
  throw new TypeError(
    'RedisLockCoordinator: expected an ioredis client (new Redis() / new Cluster()) or a ' +
      `node-redis v4+ client (createClient() / createCluster()), got ${describe(client)}`,
  );
}

function isIoRedis(client: unknown): client is IoRedisClientLike {
  return hasMethod(client, 'set') && typeof client.status === 'string' && hasMethod(client, 'time');
}

function isNodeRedis(client: unknown): client is NodeRedisClientLike {
  return hasMethod(client, 'set') && typeof client.isOpen === 'boolean';
}

function hasMethod<K extends string>(value: unknown, name: K): value is Record<K, (...args: never[]) => unknown> & Record<string, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
}

// A node-redis type mapping can turn the reply into a Buffer, hence String().
function isOk(reply: unknown): boolean {
  return String(reply) === 'OK';
}

function epochMs(reply: unknown): number {
  // node-redis v4 turns the reply into a Date; the others return [seconds, microseconds] as strings.
  if (reply instanceof Date) return reply.getTime();
  if (Array.isArray(reply) && reply.length === 2) {
    const seconds = Number(reply[0]);
    const micros = Number(reply[1]);
    if (Number.isFinite(seconds) && Number.isFinite(micros)) return seconds * 1000 + micros / 1000;
  }
  throw new TypeError(`RedisLockCoordinator: unexpected reply to TIME: ${inspect(reply)}`);
}

function describe(value: unknown): string {
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'}); pass an instance, not the class or factory`;
  if (typeof value !== 'object' || value === null) return String(value);
  const name = value.constructor?.name ?? 'Object';
  return `an object (${name}) with neither ioredis' status/set/time nor node-redis' isOpen/set`;
}
