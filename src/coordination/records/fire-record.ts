/** The process that holds a fire: where it runs. `incarnation` tells a restarted process from its predecessor with the same pid. */
export interface Holder {
  host: string;
  pid: number;
  incarnation: string;
}

/**
 * A fire's life in the records: `running` from its claim until its end says `succeeded` or `failed`; `lost` when it
 * ended without a run (its host could not run it), or when its lease lapsed without an end (its holder died, hung or
 * was cut off); `skipped` when a policy kept it from running (`error.name` `'Paused'` or `'Overlap'`, with why).
 */
/** `buffered`: waiting, under `overlap: 'buffer-one'`, for the run before it to end. */
export type FireState = 'running' | 'succeeded' | 'failed' | 'lost' | 'skipped' | 'buffered';

/** One fire's story, as `history()` returns it. Times are epoch milliseconds. */
export interface FireRecord {
  task: string;
  /** The fire's planned instant. */
  slot: number;
  state: FireState;
  holder: Holder;
  /** Strictly increasing per task across the fleet: a later claim of the task always has a larger one. */
  fencingToken: number;
  claimedAt: number;
  /** Until when the claim holds unless it is renewed or ended. */
  leaseUntil: number;
  startedAt?: number;
  endedAt?: number;
  durationMs?: number;
  /** `failed`: the run's error; `lost`: why (`name` is `'LostFire'`); `skipped`: why (`'Paused'`, `'Overlap'`). */
  error?: { name: string; message: string };
}

/** How a fire ended, as its holder reports it. */
export type FireOutcome =
  | { state: 'succeeded'; startedAt: number; endedAt: number }
  | { state: 'failed'; startedAt: number; endedAt: number; error: { name: string; message: string } }
  /** Won but not run (nobody of the host could): the cause. */
  | { state: 'lost'; endedAt: number; cause: string };

export interface HistoryOptions {
  /** At most this many records, newest first. Default 20. */
  limit?: number;
}

/** How many records a backend keeps per task: the last `perTask`, none older than `maxAgeMs`. */
export interface RetentionOptions {
  /** Default 1000. */
  perTask?: number;
  /** Default 7 days. */
  maxAgeMs?: number;
}

export const DEFAULT_RETENTION: Required<RetentionOptions> = { perTask: 1000, maxAgeMs: 7 * 24 * 3600_000 };

/** `option` with the defaults filled in; throws, naming `owner` and the field, unless each is a positive integer. */
export function resolveRetention(owner: string, option: RetentionOptions = {}, maxPerTask = Number.MAX_SAFE_INTEGER): Required<RetentionOptions> {
  const { perTask = DEFAULT_RETENTION.perTask, maxAgeMs = DEFAULT_RETENTION.maxAgeMs } = option;
  const check = (field: keyof RetentionOptions, value: number, unit: string, max = Number.MAX_SAFE_INTEGER) => {
    if (Number.isSafeInteger(value) && value >= 1 && value <= max) return;
    const bound = max < Number.MAX_SAFE_INTEGER ? `, at most ${max}` : '';
    throw new RangeError(`${owner}: retention.${field} must be a positive integer (${unit}${bound}), got ${String(value)}`);
  };
  check('perTask', perTask, 'records', maxPerTask);
  check('maxAgeMs', maxAgeMs, 'milliseconds');
  return { perTask, maxAgeMs };
}

export const DEFAULT_HISTORY_LIMIT = 20;
