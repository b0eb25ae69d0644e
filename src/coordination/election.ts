import type { Logger, RunCoordinator, SkipReason } from '../types.js';
import { callBounded } from './bounded.js';
import { isTracking, type FireAsk } from './tracking.js';

export type Election =
  | { elected: true }
  | { elected: false; reason: Exclude<SkipReason, 'coordinator-error'> }
  | { elected: false; reason: 'coordinator-error'; error: unknown };

/**
 * Asks the coordinator whether this process runs the fire `key`. Fails closed: a throw, a rejection, a
 * timeout or an answer that is not a boolean skips the fire as `coordinator-error`, logged once.
 */
export async function elect(
  coordinator: RunCoordinator,
  key: string,
  ttlMs: number,
  timeoutMs: number,
  logger: Logger,
  fire: Omit<FireAsk, 'signal'> = {},
): Promise<Election> {
  const abandon = new AbortController();
  // A plain RunCoordinator gets node-cron's two arguments; a tracking one also learns about the fire.
  const shouldRun = isTracking(coordinator)
    ? () => coordinator.shouldRun(key, ttlMs, { ...fire, signal: abandon.signal })
    : () => coordinator.shouldRun(key, ttlMs);
  try {
    const answer = await callBounded(shouldRun, timeoutMs, `Run coordinator shouldRun(${key})`, () => abandon.abort());
    if (typeof answer !== 'boolean') throw new TypeError(`Run coordinator shouldRun(${key}) returned ${String(answer)}, expected a boolean`);
    return answer ? { elected: true } : { elected: false, reason: 'not-elected' };
  } catch (error) {
    logger.error('Run coordinator failed; skipping execution (fail-closed)', error);
    return { elected: false, reason: 'coordinator-error', error };
  }
}

/**
 * Tells the coordinator the fire is done. Its errors are logged and never thrown; the error is returned, for an
 * authority to pass on to the process it completes for.
 */
export async function complete(coordinator: RunCoordinator, key: string, timeoutMs: number, logger: Logger): Promise<unknown> {
  const onComplete = coordinator.onComplete;
  if (!onComplete) return undefined;
  try {
    await callBounded(() => onComplete.call(coordinator, key), timeoutMs, `Run coordinator onComplete(${key})`);
    return undefined;
  } catch (error) {
    logger.error('Run coordinator onComplete failed', error);
    return error;
  }
}
