import { timerQueue, type QueueEntry } from '../engine/timer-queue.js';

/** How an attempt at a fire went: not coordinated when its authority or backend could still not be reached. */
export type Coordination = { coordinated: true } | { coordinated: false; error: unknown };

/**
 * The fire a task owes a catch-up: the latest one that could not be coordinated (its authority or backend was out),
 * tried again on the shared timer queue until the coordinator answers or the fire leaves the `catchUp` window.
 * One fire at most: a later uncoordinated fire replaces an earlier one, as a catch-up at start takes the latest.
 */
export class OwedCatchUp implements QueueEntry {
  private owed: number | undefined;
  private lastError: unknown;
  private trying = false;

  constructor(
    private readonly windowMs: number,
    private readonly attempt: (slot: number) => Promise<Coordination>,
    /** Told once when the window passed before the coordinator came back, with its last error. */
    private readonly expired: (slot: number, error: unknown) => void,
    private readonly referenced: () => boolean,
  ) {}

  /** Between tries: a tenth of the window, within [1 s, 30 s]. */
  get retryMs(): number {
    return Math.min(30_000, Math.max(1000, Math.floor(this.windowMs / 10)));
  }

  /** Fire `slot` could not be coordinated: it is owed a catch-up, tried after `retryMs`. */
  owe(slot: number, error: unknown, now: number): void {
    this.lastError = error;
    if (this.owed !== undefined && this.owed >= slot) return;
    this.owed = slot;
    if (!this.trying) timerQueue.add(this, now + this.retryMs, this.referenced());
  }

  /** The coordinator answered another fire: the owed one is tried now rather than after the wait. */
  reachable(now: number): void {
    if (this.owed !== undefined && !this.trying) timerQueue.add(this, now, this.referenced());
  }

  setRef(ref: boolean): void {
    timerQueue.setRef(this, ref);
  }

  /** The task stopped: nothing is owed any more (a start catches up by its own window). */
  cancel(): void {
    this.owed = undefined;
    timerQueue.remove(this);
  }

  fire(now: number): void {
    const slot = this.owed;
    if (slot === undefined || this.trying) return;
    if (now - slot > this.windowMs) {
      this.owed = undefined;
      return this.expired(slot, this.lastError);
    }
    this.trying = true;
    const settled = (outcome: Coordination): void => {
      this.trying = false;
      if (!outcome.coordinated) this.lastError = outcome.error;
      // A later fire may have become the owed one meanwhile; it is tried next, after the wait.
      else if (this.owed === slot) this.owed = undefined;
      if (this.owed !== undefined) timerQueue.add(this, Date.now() + this.retryMs, this.referenced());
    };
    this.attempt(slot).then(settled, (error: unknown) => settled({ coordinated: false, error }));
  }
}
