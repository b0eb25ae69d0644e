import { processWide } from '../process-state.js';
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
/** Emptied buckets are dropped once they outnumber the live ones and this many. */
const COMPACT_MIN = 16;

/**
 * One timer for the whole process. Entries due at the same instant share a bucket, so N tasks on one schedule
 * cost one heap entry; the single `setTimeout` is armed for the earliest instant, never longer than
 * `MAX_SLEEP_MS`, and keeps the process alive only while some queued entry is ref'ed.
 */
export class TimerQueue {
  private readonly heap = new MinHeap();
  /**
   * One bucket per instant in the heap. A bucket emptied by `remove` stays (with its heap entry) until its
   * instant comes up or `compact` drops it, so re-queueing an entry at the same instant reuses both.
   */
  private readonly buckets = new Map<number, Set<QueueEntry>>();
  private emptyBuckets = 0;
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

  /** Instants held by the heap: at most about twice those with a queued entry, none when nothing is queued. */
  get heapSize(): number {
    return this.heap.size;
  }

  /** Queues (or re-queues) `entry` for instant `at` (epoch ms). */
  add(entry: QueueEntry, at: number, ref = true): void {
    this.remove(entry);
    let bucket = this.buckets.get(at);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(at, bucket);
      this.heap.push(at);
    } else if (bucket.size === 0) {
      this.emptyBuckets--;
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
    // Not found while its bucket is being fired: `wake` has taken it out already.
    const bucket = this.buckets.get(slot.at);
    if (bucket?.delete(entry) && bucket.size === 0) this.emptyBuckets++;
    if (this.slots.size === 0) {
      this.clear();
    } else {
      this.compact();
      this.applyRef();
    }
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
      for (const entry of this.shift()) {
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
    this.compact();
    this.arm();
    // One faulty entry must not starve the others; its error still surfaces, after everyone has fired.
    if (failure !== undefined) throw failure;
  };

  private arm(): void {
    let at = this.heap.peek();
    while (at !== undefined && this.buckets.get(at)?.size === 0) {
      this.shift();
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

  /** Takes the earliest instant and its bucket out of the queue. */
  private shift(): Set<QueueEntry> {
    const at = this.heap.pop() as number;
    const bucket = this.buckets.get(at) as Set<QueueEntry>;
    this.buckets.delete(at);
    if (bucket.size === 0) this.emptyBuckets--;
    return bucket;
  }

  /** Rebuilds the heap without the emptied buckets once they dominate; amortised O(1) per emptied bucket. */
  private compact(): void {
    if (this.emptyBuckets <= COMPACT_MIN || this.emptyBuckets * 2 <= this.buckets.size) return;
    for (const [at, bucket] of this.buckets) if (bucket.size === 0) this.buckets.delete(at);
    this.heap.reset(this.buckets.keys());
    this.emptyBuckets = 0;
  }

  private clear(): void {
    this.heap.reset();
    this.buckets.clear();
    this.emptyBuckets = 0;
    this.disarm();
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
export const timerQueue = processWide('timer-queue', () => new TimerQueue());
