import type { RunCoordinator, SkipReason } from '../types.js';
import { callBounded } from './bounded.js';
import type { FireOutcome } from './records/fire-record.js';
import { isTracking, type ClaimNote, type FireAsk } from './tracking.js';

export type Election =
  /** `fencingToken`: the fleet's records gave the claim one (a tracking coordinator passes it on). */
  /** `last`: the fleet-wide run limit is reached with this run. */
  | { elected: true; fencingToken?: number; last?: boolean }
  /** `overlap`, `limit`: the fleet's records refused the claim by the task's policy (not a skip: other events say so). */
  /** `buffered`: the fire waits for the run before it to end (`overlap: 'buffer-one'`); its claimant asks again. */
  | { elected: false; reason: Exclude<SkipReason, 'coordinator-error'> | 'overlap' | 'limit' | 'buffered' }
  | { elected: false; reason: 'coordinator-error'; error: unknown };

/**
 * Asks the coordinator whether this process runs the fire `key`. Fails closed: a throw, a rejection, a
 * timeout or an answer that is not a boolean skips the fire as `coordinator-error` (the caller logs it).
 */
export async function elect(
  coordinator: RunCoordinator,
  key: string,
  ttlMs: number,
  timeoutMs: number,
  fire: Omit<FireAsk, 'signal'> = {},
): Promise<Election> {
  const abandon = new AbortController();
  // A plain RunCoordinator gets node-cron's two arguments; a tracking one also learns about the fire.
  let note: ClaimNote = {};
  const shouldRun = isTracking(coordinator)
    ? () => coordinator.shouldRun(key, ttlMs, { ...fire, signal: abandon.signal, noted: (told) => (note = told) })
    : () => coordinator.shouldRun(key, ttlMs);
  try {
    const answer = await callBounded(shouldRun, timeoutMs, `Run coordinator shouldRun(${key})`, () => abandon.abort());
    if (typeof answer !== 'boolean') throw new TypeError(`Run coordinator shouldRun(${key}) returned ${String(answer)}, expected a boolean`);
    if (!answer) return { elected: false, reason: note.refused ?? 'not-elected' };
    const fencingToken = isTracking(coordinator) ? coordinator.fencingTokenOf(key) : undefined;
    const won: Election = fencingToken === undefined ? { elected: true } : { elected: true, fencingToken };
    if (note.last) won.last = true;
    return won;
  } catch (error) {
    return { elected: false, reason: 'coordinator-error', error };
  }
}

/** Tells the coordinator the fire is done. Its errors are never thrown but returned, for the caller to log or pass on. */
export async function complete(coordinator: RunCoordinator, key: string, timeoutMs: number, outcome?: FireOutcome): Promise<unknown> {
  const onComplete = coordinator.onComplete;
  if (!onComplete) return undefined;
  // A plain RunCoordinator gets node-cron's one argument; a tracking one also learns how the run ended.
  const call = isTracking(coordinator) ? () => coordinator.onComplete(key, outcome) : () => onComplete.call(coordinator, key);
  try {
    await callBounded(call, timeoutMs, `Run coordinator onComplete(${key})`);
    return undefined;
  } catch (error) {
    return error;
  }
}
