import type { RedisCommands } from './client.js';
import { checkReplicas, waitCommands, type WaitForReplicasOptions } from './replica-wait.js';
import { LuaScript } from './script.js';

// KEYS[1]: the claim's key. ARGV[1]: this claim's value, unique to the claim. ARGV[2]: the lease, in ms.
// Finding ARGV[1] already there means this very claim was executed before: the client lost the reply and resent
// the command after reconnecting (ioredis does by default). The key is touched then so that the write belongs to
// this connection too, and a WAIT sent after it on the new connection covers it.
const LEASE_SCRIPT = new LuaScript(`local held = redis.call('GET', KEYS[1])
if held == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if held then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`);

/**
 * Claims `key` for `value` with a lease only, no record: one script call. With `replicas`, a WAIT follows on the
 * same connection, and a won claim that fewer replicas acknowledged rejects: it would not survive a failover.
 */
export async function claim(
  redis: RedisCommands,
  key: string,
  value: string,
  ttlMs: number,
  replicas: WaitForReplicasOptions | undefined,
): Promise<boolean> {
  const [won, acknowledged] = await LEASE_SCRIPT.run(redis, [key], [value, String(ttlMs)], waitCommands(replicas));
  if (Number(won) !== 1) return false;
  checkReplicas(replicas, acknowledged, key);
  return true;
}
