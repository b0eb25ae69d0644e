import { describe, expect, it } from 'vitest';
import { TRIGGER_KEEP_MS } from '../../../src/coordination/records/backend.js';
import { RecordTable } from '../../../src/coordination/records/record-table.js';

const holder = { host: 'h', pid: 1, incarnation: 'i' };
let ids = 0;
const ask = (task: string, slot: number, leaseMs = 1000) => ({ task, slot, leaseMs, holder, claimId: String(++ids) });

describe('RecordTable: bounded, and never forgetting a claim a process could still reach', () => {
  it('keeps at most `total` records across tasks, dropping the oldest whose lease has passed', () => {
    const table = new RecordTable({ total: 10, perTask: 1000 });
    for (let i = 0; i < 30; i++) table.claim(ask(`t${i % 3}`, i * 1000, 500), i * 1000);
    expect(table.size).toBe(10);
    expect(table.history('t0', { limit: 100 }).map((r) => r.slot)).toEqual([27_000, 24_000, 21_000]);
  });

  it('drops nothing whose lease is still running, even past its limits', () => {
    const table = new RecordTable({ total: 5, perTask: 2 });
    for (let i = 0; i < 8; i++) expect(table.claim(ask('t', i, 60_000), 100).won).toBe(true);
    expect(table.size).toBe(8);
    // A fire that is still held is still refused.
    expect(table.claim(ask('t', 0), 200).won).toBe(false);
    // Once the leases have passed, the next claim prunes to the limit.
    table.claim(ask('t', 100, 60_000), 70_000);
    expect(table.history('t', { limit: 100 }).map((r) => r.slot)).toEqual([100, 7]);
  });

  it('drops records older than maxAgeMs once their lease has passed', () => {
    const table = new RecordTable({ maxAgeMs: 10_000 });
    table.claim(ask('t', 0, 1000), 0);
    table.claim(ask('t', 5000, 1000), 5000);
    table.claim(ask('t', 12_000, 1000), 12_000);
    expect(table.history('t').map((r) => r.slot)).toEqual([12_000, 5000]);
  });

  it('keeps the fencing counter of a task whose records were all dropped', () => {
    const table = new RecordTable({ perTask: 1 });
    const first = table.claim(ask('t', 0, 10), 0);
    const second = table.claim(ask('t', 1000, 10), 1000);
    expect(table.history('t').map((r) => r.slot)).toEqual([1000]);
    expect(second).toMatchObject({ won: true, fencingToken: (first as { fencingToken: number }).fencingToken + 1 });
  });

  it('history returns copies: changing one changes no record', () => {
    const table = new RecordTable();
    table.claim(ask('t', 0), 0);
    const [record] = table.history('t');
    record!.holder.host = 'changed';
    record!.state = 'succeeded';
    expect(table.history('t')[0]).toMatchObject({ state: 'running', holder: { host: 'h' } });
  });
});

describe('RecordTable: triggers', () => {
  it('a trigger takes the time asked, a millisecond later on a whole second; one per task and millisecond', () => {
    const table = new RecordTable();
    expect(table.trigger('t', 1000)).toBe(1001);
    expect(table.trigger('t', 1001), 'the same millisecond as the bumped one: the same trigger').toBe(1001);
    expect(table.trigger('u', 1500)).toBe(1500);
    expect(table.trigger('t', 1500)).toBe(1500);
    expect(table.trigger('t', 1500)).toBe(1500);
    expect(table.triggers(0, 2000)).toEqual([{ task: 't', slot: 1001 }, { task: 't', slot: 1500 }, { task: 'u', slot: 1500 }]);
    expect(table.triggers(1001, 2000)).toEqual([{ task: 't', slot: 1500 }, { task: 'u', slot: 1500 }]);
    expect(table.triggers(1500, 2000)).toEqual([]);
  });

  it('keeps a trigger TRIGGER_KEEP_MS, listed until then; the next trigger drops those past it', () => {
    const table = new RecordTable();
    table.trigger('t', 1500);
    table.trigger('t', 30_500);
    expect(table.triggers(0, 1500 + TRIGGER_KEEP_MS).map((x) => x.slot)).toEqual([1500, 30_500]);
    expect(table.triggers(0, 1501 + TRIGGER_KEEP_MS).map((x) => x.slot)).toEqual([30_500]);
    table.trigger('u', 1501 + TRIGGER_KEEP_MS);
    // Dropped, not only left out: a clock stepped back does not bring it back.
    expect(table.triggers(0, 2000).map((x) => x.slot)).toEqual([30_500, 1501 + TRIGGER_KEEP_MS]);
  });

  it('triggers returns copies', () => {
    const table = new RecordTable();
    table.trigger('t', 1500);
    table.triggers(0, 1500)[0]!.task = 'changed';
    expect(table.triggers(0, 1500)).toEqual([{ task: 't', slot: 1500 }]);
  });
});
