import { createHash } from 'node:crypto';
import type { PipelineCommand, RedisCommands } from './client.js';

/**
 * A Lua script sent by source the first time on each client (which makes Redis cache it), by SHA1 after that and,
 * when Redis no longer has it (a restart, a failover, SCRIPT FLUSH, a cluster node not seen yet), once more by
 * source. One round trip per call either way but the last.
 */
export class LuaScript {
  readonly sha1: string;
  private readonly sentSource = new WeakSet<RedisCommands>();

  constructor(readonly source: string) {
    this.sha1 = createHash('sha1').update(source).digest('hex');
  }

  /**
   * Runs the script on the connection serving `keys[0]`, followed in the same pipeline by `after` (a WAIT).
   * Resolves with the script's reply, then those of `after`.
   */
  run(redis: RedisCommands, keys: string[], args: string[], after: readonly PipelineCommand[] = []): Promise<unknown[]> {
    const send = (name: 'EVALSHA' | 'EVAL', script: string) => redis.pipeline(keys[0]!, [{ name, script, keys, args }, ...after]);
    const bySource = () => {
      this.sentSource.add(redis);
      return send('EVAL', this.source);
    };
    return (this.sentSource.has(redis) ? send('EVALSHA', this.sha1) : bySource()).catch((error: unknown) => {
      if (isNoScript(error)) return bySource();
      throw error;
    });
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
