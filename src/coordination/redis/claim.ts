import { createHash } from 'node:crypto';
import type { PipelineCommand, RedisCommands } from './client.js';
import type { WaitForReplicasOptions } from './replica-wait.js';

// KEYS[1]: the fire's key. ARGV[1]: this claim's value, unique to the claim. ARGV[2]: the lease, in ms.
// Finding ARGV[1] already there means this very claim was executed before: the client lost the reply and resent
// the command after reconnecting (ioredis does by default). The key is touched then so that the write belongs to
// this connection too, and a WAIT sent after it on the new connection covers it.
const SOURCE = `local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;
const SHA1 = createHash('sha1').update(SOURCE).digest('hex');
/** Clients that sent the source once: Redis caches a script it ran by EVAL, so later claims go by SHA1. */
const sentSource = new WeakSet<RedisCommands>();

/**
 * Claims `key` for `value` with one script call: by source the first time (which loads it), by SHA1 after that and,
 * when Redis no longer has the script (a restart, a failover, SCRIPT FLUSH), once more by source. With `replicas`, a WAIT follows on the same
 * connection, and a won claim that fewer replicas acknowledged rejects: it would not survive a failover.
 */
export async function claim(
  redis: RedisCommands,
  key: string,
  value: string,
  ttlMs: number,
  replicas: WaitForReplicasOptions | undefined,
): Promise<boolean> {
  const send = (name: 'EVALSHA' | 'EVAL', script: string) => {
    const commands: PipelineCommand[] = [{ name, script, keys: [key], args: [value, String(ttlMs)] }];
    if (replicas) commands.push({ name: 'WAIT', replicas: replicas.count, timeoutMs: replicas.timeoutMs });
    return redis.pipeline(key, commands);
  };
  const bySource = (): ReturnType<typeof send> => {
    sentSource.add(redis);
    return send('EVAL', SOURCE);
  };
  const [won, acknowledged] = await (sentSource.has(redis) ? send('EVALSHA', SHA1) : bySource()).catch((error: unknown) => {
    if (isNoScript(error)) return bySource();
    throw error;
  });
  if (Number(won) !== 1) return false;
  if (!replicas) return true;
  if (Number(acknowledged) >= replicas.count) return true;
  throw new Error(
    `RedisLockCoordinator: the claim of ${key} was acknowledged by ${String(acknowledged)} of the ${replicas.count} ` +
      `replicas required (waitForReplicas.count) within ${replicas.timeoutMs} ms; not running the fire, since a ` +
      'failover now could lose the claim and elect the fire again',
  );
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
