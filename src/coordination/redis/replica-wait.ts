import type { PipelineCommand } from './client.js';

/** How many replicas must acknowledge a claim, and how long to wait for them. */
export interface WaitForReplicasOptions {
  /** Replicas that must have the claim before it counts; a positive integer. */
  count: number;
  /**
   * How long Redis `WAIT` blocks for them, in ms; a positive integer (WAIT's 0 would block forever). Keep it well
   * under the scheduler's `electionTimeout`, which bounds the whole claim.
   */
  timeoutMs: number;
}

export function resolveWaitForReplicas(option: WaitForReplicasOptions | undefined): WaitForReplicasOptions | undefined {
  if (option === undefined) return undefined;
  if (typeof option !== 'object' || option === null) {
    throw new TypeError(`RedisLockCoordinator: waitForReplicas must be an object { count, timeoutMs }, got ${String(option)}`);
  }
  const { count, timeoutMs } = option;
  if (!isPositiveInteger(count)) {
    throw new RangeError(`RedisLockCoordinator: waitForReplicas.count must be a positive integer (replicas), got ${String(count)}`);
  }
  if (!isPositiveInteger(timeoutMs)) {
    throw new RangeError(
      `RedisLockCoordinator: waitForReplicas.timeoutMs must be a positive integer (milliseconds; WAIT's 0 would block forever), got ${String(timeoutMs)}`,
    );
  }
  return { count, timeoutMs };
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** The WAIT to pipeline behind a claim, if any. */
export function waitCommands(replicas: WaitForReplicasOptions | undefined): PipelineCommand[] {
  return replicas ? [{ name: 'WAIT', replicas: replicas.count, timeoutMs: replicas.timeoutMs }] : [];
}

/** Rejects a won claim (of `what`) that fewer replicas acknowledged than required: a failover could lose it. */
export function checkReplicas(replicas: WaitForReplicasOptions | undefined, acknowledged: unknown, what: string): void {
  if (!replicas || Number(acknowledged) >= replicas.count) return;
  throw new Error(
    `RedisLockCoordinator: the claim of ${what} was acknowledged by ${String(acknowledged)} of the ${replicas.count} ` +
      `replicas required (waitForReplicas.count) within ${replicas.timeoutMs} ms; not running the fire, since a ` +
      'failover now could lose the claim and elect the fire again',
  );
}
