import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RunCoordinator } from '../../src/index.js';
import type { NodeRedisClient } from './redis-clients.js';

/** Deletes the claim only if it still holds this process's token. */
const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** The two commands of a lock, whichever client carries them. */
export interface LockCommands {
  /** SET key token NX PX ttl: true iff set. */
  acquire(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** EVAL compare-and-delete. */
  release(key: string, token: string): Promise<void>;
}

/**
 * The Redis coordinator node-cron 4.6 documents (not published on npm), rebuilt for the comparison: a fire is claimed
 * with `SET key token NX PX lease` and released when its run ends with a Lua compare-and-delete, so the winner of a
 * fire sends two commands, one round trip each.
 */
export class NodeCronRedisLock implements RunCoordinator {
  private readonly tokens = new Map<string, string>();

  constructor(
    private readonly commands: LockCommands,
    private readonly prefix = 'node-cron:',
  ) {}

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    const token = randomUUID();
    const acquired = await this.commands.acquire(this.prefix + key, token, ttlMs);
    if (acquired) this.tokens.set(key, token);
    return acquired;
  }

  async onComplete(key: string): Promise<void> {
    const token = this.tokens.get(key);
    if (token === undefined) return;
    this.tokens.delete(key);
    await this.commands.release(this.prefix + key, token);
  }
}

export function ioRedisLock(client: Redis): LockCommands {
  return {
    acquire: async (key, token, ttlMs) => (await client.set(key, token, 'PX', ttlMs, 'NX')) === 'OK',
    release: async (key, token) => {
      await client.eval(RELEASE, 1, key, token);
    },
  };
}

export function nodeRedisLock(client: NodeRedisClient): LockCommands {
  return {
    acquire: async (key, token, ttlMs) => (await client.set(key, token, { NX: true, PX: ttlMs })) === 'OK',
    release: async (key, token) => {
      await client.eval(RELEASE, { keys: [key], arguments: [token] });
    },
  };
}
