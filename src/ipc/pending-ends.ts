import { callBounded } from '../coordination/bounded.js';
import type { FireBackend, FireEnd } from '../coordination/records/backend.js';
import type { FireOutcome } from '../coordination/records/fire-record.js';
import { Batcher } from './batcher.js';

/** Ends kept for a retry at most; past it, the oldest is given up (its record lapses and is reported lost). */
const MAX_PENDING = 10_000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 60_000;
/** An end not written within this long is given up. */
const GIVE_UP_MS = 60 * 60_000;

interface PendingEnd extends FireEnd {
  since: number;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

/**
 * Writes the ends of fires into their records, and keeps an end the backend could not take (unreachable, cut
 * off) to write it once it is back, retrying with a growing delay: a run that lost its backend mid-way still gets
 * its record's story right — how it ended, and why (`ctx.signal` aborted: the claim was lost).
 */
export class PendingEnds {
  private readonly pending = new Map<string, PendingEnd>();
  /** The ends of one turn of the event loop go to the backend as one call, as the claims do. */
  private readonly batcher: Batcher<FireEnd, boolean>;

  constructor(
    backend: FireBackend,
    private readonly timeoutMs: number,
    private readonly now: () => number,
    maxBatch?: number,
  ) {
    this.batcher = new Batcher((ends) => backend.end(ends), maxBatch);
  }

  /** Ends fire `id`'s record; resolves with the first attempt's failure, if it failed (a retry follows). */
  end(id: string, task: string, slot: number, fencingToken: number, outcome: FireOutcome): Promise<unknown> {
    return this.write({ task, slot, fencingToken, outcome, since: this.now(), delayMs: FIRST_RETRY_MS }, id);
  }

  private async write(end: PendingEnd, id: string): Promise<unknown> {
    const { task, slot, fencingToken, outcome } = end;
    try {
      const accepted = await callBounded(() => this.batcher.add({ task, slot, fencingToken, outcome }), this.timeoutMs, `end of ${id}`);
      this.pending.delete(id);
      return accepted ? undefined : new Error(`the record of fire ${id} is no longer this host's (fencing token ${end.fencingToken}): its lease had passed`);
    } catch (error) {
      this.retryLater(id, end);
      return error;
    }
  }

  private retryLater(id: string, end: PendingEnd): void {
    if (this.now() - end.since >= GIVE_UP_MS) return void this.pending.delete(id);
    this.pending.delete(id);
    if (this.pending.size >= MAX_PENDING) {
      const [oldest, dropped] = this.pending.entries().next().value!;
      clearTimeout(dropped.timer);
      this.pending.delete(oldest);
    }
    end.timer = setTimeout(() => void this.write(end, id), end.delayMs);
    end.timer.unref();
    end.delayMs = Math.min(end.delayMs * 2, MAX_RETRY_MS);
    this.pending.set(id, end);
  }
}
