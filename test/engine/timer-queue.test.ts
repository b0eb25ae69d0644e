import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_SLEEP_MS, TimerQueue, type QueueEntry } from '../../src/engine/timer-queue.js';

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function recorder(log: Array<[string, number]>, name: string): QueueEntry {
  return { fire: (now) => log.push([name, now]) };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TimerQueue', () => {
  it('fires entries in instant order, each once, and holds one timer for all of them', async () => {
    const queue = new TimerQueue();
    const log: Array<[string, number]> = [];
    const before = timeouts();
    const start = Date.now();
    queue.add(recorder(log, 'c'), start + 60);
    queue.add(recorder(log, 'a'), start + 20);
    queue.add(recorder(log, 'b'), start + 40);
    queue.add(recorder(log, 'a2'), start + 20);
    expect(timeouts() - before).toBe(1);
    await new Promise((r) => setTimeout(r, 150));
    expect(log.map(([name]) => name)).toEqual(['a', 'a2', 'b', 'c']);
    for (const [, firedAt] of log) expect(firedAt).toBeGreaterThanOrEqual(start + 20);
    expect(timeouts() - before).toBeLessThanOrEqual(0);
  });

  it('forgets removed entries and disarms when empty', async () => {
    const queue = new TimerQueue();
    const log: Array<[string, number]> = [];
    const before = timeouts();
    const entry = recorder(log, 'x');
    queue.add(entry, Date.now() + 30);
    queue.remove(entry);
    expect(queue.size).toBe(0);
    expect(timeouts() - before).toBeLessThanOrEqual(0);
    await new Promise((r) => setTimeout(r, 60));
    expect(log).toEqual([]);
  });

  it('re-queueing an entry moves it instead of duplicating it', async () => {
    const queue = new TimerQueue();
    const log: Array<[string, number]> = [];
    const entry = recorder(log, 'x');
    queue.add(entry, Date.now() + 20);
    queue.add(entry, Date.now() + 40);
    await new Promise((r) => setTimeout(r, 100));
    expect(log).toHaveLength(1);
  });

  it('keeps one or two timeouts for 10 000 entries on distinct instants', () => {
    const queue = new TimerQueue();
    const before = timeouts();
    const entries = Array.from({ length: 10_000 }, (_, i) => ({ fire: () => undefined, i }));
    const now = Date.now();
    entries.forEach((entry, i) => queue.add(entry, now + 60_000 + i * 1000));
    expect(timeouts() - before).toBeLessThanOrEqual(1);
    for (const entry of entries) queue.remove(entry);
    expect(timeouts() - before).toBeLessThanOrEqual(0);
  });

  it('wakes at least every 30 s and notices a wall-clock jump', () => {
    vi.useFakeTimers({ now: 0 });
    const queue = new TimerQueue(() => Date.now());
    const log: Array<[string, number]> = [];
    queue.add(recorder(log, 'hourly'), 3_600_000);
    // The wall clock jumps forward by an hour while monotonic time moves only 30 s (a resumed VM).
    vi.setSystemTime(3_600_000 - 30_000 + 5);
    vi.advanceTimersByTime(MAX_SLEEP_MS);
    expect(log).toEqual([['hourly', 3_600_000 - 30_000 + 5 + MAX_SLEEP_MS]]);
  });

  it('lets the process exit when only unref-ed entries are queued', () => {
    const queue = new TimerQueue();
    const entry = { fire: () => undefined };
    queue.add(entry, Date.now() + 60_000, false);
    const handle = (queue as unknown as { timer: NodeJS.Timeout }).timer;
    expect(handle.hasRef()).toBe(false);
    queue.setRef(entry, true);
    expect(handle.hasRef()).toBe(true);
    queue.remove(entry);
  });

  it('fires every other entry of a bucket when one throws, then surfaces the error', () => {
    vi.useFakeTimers({ now: 0 });
    const queue = new TimerQueue(() => Date.now());
    const log: Array<[string, number]> = [];
    queue.add({ fire: () => { throw new Error('boom'); } }, 100);
    queue.add(recorder(log, 'ok'), 100);
    expect(() => vi.advanceTimersByTime(100)).toThrow('boom');
    expect(log).toEqual([['ok', 100]]);
  });

  it('re-queueing one entry at the same far instant keeps one heap entry, and removing it leaves none', () => {
    const queue = new TimerQueue(() => 0);
    const entry = { fire: () => undefined };
    const year = 365 * 24 * 3_600_000;
    queue.add(entry, year);
    for (let i = 0; i < 100_000; i++) {
      queue.remove(entry);
      queue.add(entry, year);
    }
    expect(queue.heapSize).toBe(1);
    queue.remove(entry);
    expect(queue.heapSize).toBe(0);
  });

  it('keeps the heap proportional to the live instants while entries move, and still fires each entry once, in order', () => {
    vi.useFakeTimers({ now: 0 });
    type Op = { kind: 'add'; entry: number; delay: number } | { kind: 'remove'; entry: number } | { kind: 'advance'; ms: number };
    // Entries moved away from far instants leave emptied buckets behind; near ones come up and fire.
    const soonOrLate = fc.oneof(fc.integer({ min: 1, max: 5_000 }), fc.integer({ min: 100_000, max: 10_000_000 }));
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('add' as const), entry: fc.nat(49), delay: soonOrLate }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('remove' as const), entry: fc.nat(49) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 5_000 }) }) },
    );
    fc.assert(
      fc.property(fc.array(op, { minLength: 100, maxLength: 300 }), (ops) => {
        vi.setSystemTime(0);
        const queue = new TimerQueue(() => Date.now());
        const planned = new Map<number, number>();
        const fired: Array<[number, number]> = [];
        const entries = Array.from({ length: 50 }, (_, i) => ({
          fire: (now: number) => {
            const at = planned.get(i)!;
            expect(now).toBeGreaterThanOrEqual(at);
            fired.push([i, at]);
            planned.delete(i);
          },
        }));
        const expected: Array<[number, number]> = [];
        for (const step of ops) {
          if (step.kind === 'add') {
            const at = Date.now() + step.delay;
            queue.add(entries[step.entry]!, at);
            planned.set(step.entry, at);
          } else if (step.kind === 'remove') {
            queue.remove(entries[step.entry]!);
            planned.delete(step.entry);
          } else {
            const until = Date.now() + step.ms;
            const due = [...planned].filter(([, at]) => at <= until).sort((a, b) => a[1] - b[1]);
            expected.push(...due);
            vi.advanceTimersByTime(step.ms);
          }
          const live = new Set(planned.values()).size;
          expect(queue.size).toBe(planned.size);
          expect(queue.heapSize).toBeLessThanOrEqual(2 * live + 32);
        }
        // Same fires, and instants in ascending order (entries sharing an instant may fire in any order).
        expect(sortedPairs(fired)).toEqual(sortedPairs(expected));
        expect(fired.map(([, at]) => at)).toEqual(expected.map(([, at]) => at));
        for (const entry of entries) queue.remove(entry);
        expect(queue.heapSize).toBe(0);
      }),
      { numRuns: 50 },
    );
  });
});

function sortedPairs(pairs: Array<[number, number]>): Array<[number, number]> {
  return [...pairs].sort((a, b) => a[1] - b[1] || a[0] - b[0]);
}
