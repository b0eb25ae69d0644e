import { createHash } from 'node:crypto';
import type { PipelineCommand, RedisCommands } from './client.js';

// KEYS[1]: the fire's key. ARGV[1]: this claim's value, unique to the claim. ARGV[2]: the lease, in ms.
// Finding ARGV[1] already there means this very claim was executed before: the client lost the reply and resent
// the command after reconnecting (ioredis does by default).
const SOURCE = `local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then return 1 end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const SHA1 = createHash('sha1').update(SOURCE).digest('hex');

/**
 * Claims `key` for `value` with one script call, by SHA1 and, when Redis does not have the script (a restart, a
 * failover, SCRIPT FLUSH), once more by source, which loads it.
 */
export async function claim(redis: RedisCommands, key: string, value: string, ttlMs: number): Promise<boolean> {
  const send = (name: 'EVALSHA' | 'EVAL', script: string) => {
    const commands: PipelineCommand[] = [{ name, script, keys: [key], args: [value, String(ttlMs)] }];
    return redis.pipeline(key, commands);
  };
  const [won] = await send('EVALSHA', SHA1).catch((error: unknown) => {
    if (isNoScript(error)) return send('EVAL', SOURCE);
    throw error;
  });
  return Number(won) === 1;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
