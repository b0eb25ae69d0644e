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
});
