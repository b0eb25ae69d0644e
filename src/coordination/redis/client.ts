import { inspect } from 'node:util';

/** The part of an ioredis (v4+) `Redis` or `Cluster` the coordinator uses. */
export interface IoRedisClientLike {
  readonly status: string;
  /** True on a `Cluster`. */
  readonly isCluster?: boolean;
  pipeline(commands: Array<Array<string | number>>): { exec(): Promise<Array<[Error | null, unknown]> | null> };
  time(): Promise<unknown>;
}

/** The commands of a node-redis pipeline (`multi()` … `execAsPipeline()`) the coordinator queues. */
export interface NodeRedisPipelineLike {
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): NodeRedisPipelineLike;
  eval(script: string, options: { keys: string[]; arguments: string[] }): NodeRedisPipelineLike;
  wait(numberOfReplicas: number, timeout: number): NodeRedisPipelineLike;
  execAsPipeline(): Promise<unknown>;
}

/** The part of a node-redis (v4+) client, cluster or pool the coordinator uses. */
export interface NodeRedisClientLike {
  readonly isOpen: boolean;
  /** A cluster sends the pipeline to the node serving `routing`; a pool, on one of its connections. */
  multi(routing?: string): NodeRedisPipelineLike;
  /** Missing on node-redis v4 clusters, which then cannot check the clock. */
  time?(): Promise<unknown>;
  /** Only a cluster has it. */
  readonly masters?: unknown;
}

export type RedisClientLike = IoRedisClientLike | NodeRedisClientLike;

/** A Lua script run by its SHA1 (`EVALSHA`) or its source (`EVAL`), or a `WAIT` for replicas. */
export type PipelineCommand =
  | { name: 'EVALSHA' | 'EVAL'; script: string; keys: string[]; args: string[] }
  | { name: 'WAIT'; replicas: number; timeoutMs: number };

/** What the coordinator sends, whichever client carries it. */
export interface RedisCommands {
  /** A Redis Cluster client: the keys of one pipeline must then share a hash slot. */
  readonly cluster: boolean;
  /**
   * Sends `commands` back to back on the one connection that serves `key` (a `WAIT` counts the writes of its own
   * connection only). Resolves with their replies; rejects with the first error Redis answered, or when they could
   * not be sent or a reply was lost.
   */
  pipeline(key: string, commands: PipelineCommand[]): Promise<unknown[]>;
  /** Redis `TIME`, in ms since the epoch. */
  timeMs(): Promise<number>;
}

/** Recognises the client family from its shape, so neither package is needed at runtime. */
export function redisCommands(client: unknown): RedisCommands {
  if (isIoRedis(client)) {
    return {
      cluster: client.isCluster === true,
      pipeline: async (_key, commands) => {
        // ioredis routes a Cluster pipeline by the keys in it: the script's.
        const replies = await client.pipeline(commands.map(ioRedisArgs)).exec();
        if (replies === null) throw new Error('RedisLockCoordinator: ioredis discarded the pipeline');
        const failed = replies.find(([error]) => error !== null);
        if (failed) throw failed[0];
        return replies.map(([, reply]) => reply);
      },
      timeMs: async () => epochMs(await client.time()),
    };
  }
  if (isNodeRedis(client)) {
    return {
      cluster: 'masters' in client,
      pipeline: async (key, commands) => asArray(await commands.reduce(queueNodeRedis, client.multi(key)).execAsPipeline()),
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

function ioRedisArgs(command: PipelineCommand): Array<string | number> {
  if (command.name === 'WAIT') return ['wait', command.replicas, command.timeoutMs];
  return [command.name.toLowerCase(), command.script, command.keys.length, ...command.keys, ...command.args];
}

function queueNodeRedis(pipeline: NodeRedisPipelineLike, command: PipelineCommand): NodeRedisPipelineLike {
  if (command.name === 'WAIT') return pipeline.wait(command.replicas, command.timeoutMs);
  const options = { keys: command.keys, arguments: command.args };
  return command.name === 'EVALSHA' ? pipeline.evalSha(command.script, options) : pipeline.eval(command.script, options);
}

function asArray(replies: unknown): unknown[] {
  if (Array.isArray(replies)) return replies;
  throw new TypeError(`RedisLockCoordinator: unexpected replies to a pipeline: ${inspect(replies)}`);
}

function isIoRedis(client: unknown): client is IoRedisClientLike {
  return hasMethod(client, 'pipeline') && typeof client.status === 'string' && hasMethod(client, 'time');
}

function isNodeRedis(client: unknown): client is NodeRedisClientLike {
  return hasMethod(client, 'multi') && typeof client.isOpen === 'boolean';
}

function hasMethod<K extends string>(value: unknown, name: K): value is Record<K, (...args: never[]) => unknown> & Record<string, unknown> {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[name] === 'function';
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
  return `an object (${name}) with neither ioredis' status/pipeline/time nor node-redis' isOpen/multi`;
}
