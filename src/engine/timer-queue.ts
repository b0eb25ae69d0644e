import { MinHeap } from './min-heap.js';

/** Something waiting for an instant. The queue calls `fire` once that instant has passed on the wall clock. */
export interface QueueEntry {
  fire(now: number): void;
}

interface Slot {
  at: number;
  ref: boolean;
}

/** Wake at least this often, so a suspended machine or a wall-clock jump is noticed within it. */
export const MAX_SLEEP_MS = 30_000;
/**
 * A Node timer fires 1-2 ms after its time, so the timer is set this much early and the last stretch is covered
 * by polling the clock between turns of the event loop (setImmediate: other I/O still runs), at most MAX_POLLS
 * times before falling back to a 1 ms timer.
 */
const EARLY_MS = 1;
const MAX_POLLS = 64;

/**
 * One timer for the whole process. Entries due at the same instant share a bucket, so N tasks on one schedule
 * cost one heap entry; the single `setTimeout` is armed for the earliest instant, never longer than
 * `MAX_SLEEP_MS`, and keeps the process alive only while some queued entry is ref'ed.
 */
export class TimerQueue {
  private readonly heap = new MinHeap();
  private readonly buckets = new Map<number, Set<QueueEntry>>();
  private readonly slots = new Map<QueueEntry, Slot>();
  private refCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Immediate | undefined;
  private armedFor = Infinity;
  private polls = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  get size(): number {
    return this.slots.size;
  }

  /** Queues (or re-queues) `entry` for instant `at` (epoch ms). */
  add(entry: QueueEntry, at: number, ref = true): void {
    this.remove(entry);
    let bucket = this.buckets.get(at);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(at, bucket);
      this.heap.push(at);
    }
    bucket.add(entry);
    this.slots.set(entry, { at, ref });
    if (ref) this.refCount++;
    if (at < this.armedFor) this.arm();
    else this.applyRef();
  }

  remove(entry: QueueEntry): void {
    const slot = this.slots.get(entry);
    if (!slot) return;
    this.slots.delete(entry);
    if (slot.ref) this.refCount--;
    const bucket = this.buckets.get(slot.at);
    bucket?.delete(entry);
    // An emptied bucket stays in the heap and is skipped when it comes up.
    if (bucket?.size === 0) this.buckets.delete(slot.at);
    if (this.slots.size === 0) this.disarm();
    else this.applyRef();
  }

  setRef(entry: QueueEntry, ref: boolean): void {
    const slot = this.slots.get(entry);
    if (!slot || slot.ref === ref) return;
    slot.ref = ref;
    this.refCount += ref ? 1 : -1;
    this.applyRef();
  }

  has(entry: QueueEntry): boolean {
    return this.slots.has(entry);
  }

  private wake = (): void => {
    this.timer = undefined;
    this.poll = undefined;
    this.armedFor = Infinity;
    const now = this.now();
    let failure: unknown;
    for (let at = this.heap.peek(); at !== undefined && at <= now; at = this.heap.peek()) {
      this.heap.pop();
      const bucket = this.buckets.get(at);
      if (!bucket) continue;
      this.buckets.delete(at);
      for (const entry of bucket) {
        const slot = this.slots.get(entry);
        if (!slot || slot.at !== at) continue;
        this.slots.delete(entry);
        if (slot.ref) this.refCount--;
        try {
          entry.fire(now);
        } catch (error) {
          failure ??= error;
        }
      }
    }
    this.arm();
    // One faulty entry must not starve the others; its error still surfaces, after everyone has fired.
    if (failure !== undefined) throw failure;
  };

  private arm(): void {
    let at = this.heap.peek();
    while (at !== undefined && !this.buckets.has(at)) {
      this.heap.pop();
      at = this.heap.peek();
    }
    if (at === undefined) {
      this.disarm();
      return;
    }
    this.clearTimer();
    const wait = at - this.now();
    if (wait > EARLY_MS) {
      this.polls = 0;
      this.timer = setTimeout(this.wake, Math.min(wait - EARLY_MS, MAX_SLEEP_MS));
    } else if (wait <= 0 || this.polls < MAX_POLLS) {
      this.polls = wait <= 0 ? 0 : this.polls + 1;
      this.poll = setImmediate(this.wake);
    } else {
      this.polls = 0;
      this.timer = setTimeout(this.wake, wait);
    }
    this.armedFor = at;
    this.applyRef();
  }

  private disarm(): void {
    this.clearTimer();
    this.armedFor = Infinity;
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    clearImmediate(this.poll);
    this.timer = undefined;
    this.poll = undefined;
  }

  private applyRef(): void {
    const handle = this.timer ?? this.poll;
    if (!handle) return;
    if (this.refCount > 0) handle.ref();
    else handle.unref();
  }
}

/** The process-wide queue every task shares. */
export const timerQueue = new TimerQueue();
