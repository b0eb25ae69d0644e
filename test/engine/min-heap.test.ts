import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MinHeap } from '../../src/engine/min-heap.js';

describe('MinHeap', () => {
  it('pops any sequence of pushes in ascending order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 })), (values) => {
        const heap = new MinHeap();
        for (const v of values) heap.push(v);
        const out: number[] = [];
        for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
        expect(out).toEqual([...values].sort((a, b) => a - b));
        expect(heap.size).toBe(0);
      }),
    );
  });

  it('pops in ascending order after reset() to any values, and is empty after reset()', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e9, max: 1e9 })), fc.array(fc.integer()), (values, before) => {
        const heap = new MinHeap();
        for (const v of before) heap.push(v);
        heap.reset(values);
        const out: number[] = [];
        for (let v = heap.pop(); v !== undefined; v = heap.pop()) out.push(v);
        expect(out).toEqual([...values].sort((a, b) => a - b));
        heap.push(1);
        heap.reset();
        expect(heap.size).toBe(0);
      }),
    );
  });
});

