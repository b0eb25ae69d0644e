// What every FireBackend promises (src/coordination/records/backend.ts), as one suite each backend runs against
// itself: in memory, Redis, PostgreSQL. Real time with short leases, since a backend may read its server's clock.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ClaimRequest, FireBackend, Trigger } from '../../../src/coordination/records/backend.js';
import type { FireOutcome, Holder } from '../../../src/coordination/records/fire-record.js';

export interface BackendUnderTest {
  /** Two handles on one store, as two hosts have (two clients, two coordinator objects). */
  hosts: [FireBackend, FireBackend];
  /** A fresh store for `retention` checks, keeping at most `perTask` records per task. */
  withRetention?(perTask: number): Promise<FireBackend>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const holder = (name: string): Holder => ({ host: name, pid: 1000, incarnation: `${name}-incarnation` });
/** One end, as a batch of one. */
const endOne = async (backend: FireBackend, task: string, slot: number, fencingToken: number, outcome: FireOutcome) =>
  (await backend.end([{ task, slot, fencingToken, outcome }]))[0];

export function describeFireBackend(name: string, setup: () => BackendUnderTest): void {
  describe(`${name}: the FireBackend contract`, () => {
    /** A task name no other test uses, so that tests share one store without meeting. */
    const task = () => `contract-${randomUUID()}`;
    const ask = (t: string, slot: number, who: string, leaseMs = 30_000): ClaimRequest => ({ task: t, slot, leaseMs, holder: holder(who), claimId: randomUUID() });
    /** The triggers of `tasks` only: the store is shared with the other tests. */
    const triggersOf = async (backend: FireBackend, since: number, ...tasks: string[]): Promise<Trigger[]> =>
      (await backend.triggers(since)).filter((x) => tasks.includes(x.task));

    it('the first claim of a fire wins with a fencing token; any other claim of it loses and learns the holder', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const [first] = await a.claim([ask(t, SLOT, 'a')]);
      expect(first).toMatchObject({ won: true, lost: [] });
      const [second] = await b.claim([ask(t, SLOT, 'b')]);
      expect(second).toEqual({ won: false, holder: holder('a'), lost: [] });
      const [third] = await a.claim([ask(t, SLOT, 'a')]);
      expect(third!.won, 'a second claim of the same process, with another claim id').toBe(false);
    });

    it('a claim resent with the same claim id (its reply was lost) wins again, with the same token', async () => {
      const [a] = setup().hosts;
      const request = ask(task(), SLOT, 'a');
      const [first] = await a.claim([request]);
      const [again] = await a.claim([request]);
      expect(again).toEqual(first);
    });

    it('fencing tokens strictly increase per task, whichever host claims', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const tokens: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [answer] = await (i % 2 ? b : a).claim([ask(t, SLOT + i * 1000, i % 2 ? 'b' : 'a')]);
        expect(answer!.won).toBe(true);
        tokens.push((answer as { fencingToken: number }).fencingToken);
      }
      expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
      expect(new Set(tokens).size).toBe(tokens.length);
    });

    it('claims in one batch are answered in order; two of the same fire in a batch: the first wins', async () => {
      const [a, b] = setup().hosts;
      const [t1, t2] = [task(), task()];
      await b.claim([ask(t2, SLOT, 'b')]);
      const answers = await a.claim([ask(t1, SLOT, 'a'), ask(t2, SLOT, 'a'), ask(t1, SLOT + 1000, 'a'), ask(t1, SLOT, 'a')]);
      expect(answers.map((x) => x.won)).toEqual([true, false, true, false]);
      expect(answers[1]).toMatchObject({ holder: holder('b') });
      expect(await a.claim([])).toEqual([]);
    });

    it('a fire with a record is never claimed again: not after its end, not after its lease', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const [won] = await a.claim([ask(t, SLOT, 'a', 100)]);
      const token = (won as { fencingToken: number }).fencingToken;
      expect(await endOne(a, t, SLOT, token, { state: 'succeeded', startedAt: SLOT + 5, endedAt: SLOT + 25 })).toBe(true);
      await sleep(200);
      const [late] = await b.claim([ask(t, SLOT, 'b')]);
      expect(late).toMatchObject({ won: false, holder: holder('a') });
    });

    it('end records the outcome, times and error; an end with another token is refused', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const answers = await a.claim([ask(t, SLOT, 'a'), ask(t, SLOT + 1000, 'a'), ask(t, SLOT + 2000, 'a')]);
      const [ok, bad, gone] = answers.map((x) => (x as { fencingToken: number }).fencingToken);
      expect(await endOne(b, t, SLOT, ok! + 100, { state: 'succeeded', startedAt: SLOT, endedAt: SLOT + 1 })).toBe(false);
      expect(await endOne(b, t, SLOT, ok!, { state: 'succeeded', startedAt: SLOT + 10, endedAt: SLOT + 510 })).toBe(true);
      expect(await endOne(a, t, SLOT + 1000, bad!, { state: 'failed', startedAt: SLOT + 1010, endedAt: SLOT + 1030, error: { name: 'TypeError', message: 'x is undefined' } })).toBe(true);
      expect(await endOne(a, t, SLOT + 2000, gone!, { state: 'lost', endedAt: SLOT + 2100, cause: 'its winner was stopped before the run began' })).toBe(true);
      const history = await b.history(t);
      expect(history.map((r) => [r.slot, r.state, r.fencingToken])).toEqual([[SLOT + 2000, 'lost', gone], [SLOT + 1000, 'failed', bad], [SLOT, 'succeeded', ok]]);
      expect(history[2]).toMatchObject({ task: t, holder: holder('a'), startedAt: SLOT + 10, endedAt: SLOT + 510, durationMs: 500 });
      expect(history[2]!.error).toBeUndefined();
      expect(history[1]).toMatchObject({ durationMs: 20, error: { name: 'TypeError', message: 'x is undefined' } });
      expect(history[0]).toMatchObject({ endedAt: SLOT + 2100, error: { name: 'LostFire', message: 'its winner was stopped before the run began' } });
      expect(history[0]!.startedAt).toBeUndefined();
      for (const record of history) expect(record.claimedAt).toBeGreaterThan(0);
    });

    it('ends in one batch are answered in order, each accepted or refused on its own', async () => {
      const [a] = setup().hosts;
      const t = task();
      const [x, y] = (await a.claim([ask(t, SLOT, 'a'), ask(t, SLOT + 1000, 'a')])).map((answer) => (answer as { fencingToken: number }).fencingToken);
      const done = { state: 'succeeded', startedAt: SLOT, endedAt: SLOT + 5 } as const;
      expect(await a.end([
        { task: t, slot: SLOT, fencingToken: x!, outcome: done },
        { task: t, slot: SLOT + 1000, fencingToken: y! + 7, outcome: done },
        { task: t, slot: SLOT + 5000, fencingToken: y!, outcome: done },
        { task: t, slot: SLOT + 1000, fencingToken: y!, outcome: { state: 'failed', startedAt: SLOT + 1000, endedAt: SLOT + 1002, error: { name: 'Error', message: 'boom' } } },
      ])).toEqual([true, false, false, true]);
      expect(await a.end([])).toEqual([]);
      expect((await a.history(t)).map((r) => r.state)).toEqual(['failed', 'succeeded']);
    });

    it('renew extends a running claim; refused for another token, after its end, or once its lease has passed', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const [x, y, z] = (await a.claim([ask(t, SLOT, 'a', 300), ask(t, SLOT + 1000, 'a', 300), ask(t, SLOT + 2000, 'a', 100)])).map(
        (answer) => (answer as { fencingToken: number }).fencingToken,
      );
      const before = (await a.history(t)).find((r) => r.slot === SLOT)!.leaseUntil;
      expect(await b.renew(t, SLOT, x! + 100, 5000)).toBe(false);
      expect(await b.renew(t, SLOT, x!, 5000)).toBe(true);
      const after = (await a.history(t)).find((r) => r.slot === SLOT)!.leaseUntil;
      expect(after).toBeGreaterThan(before + 4000);
      await endOne(a, t, SLOT + 1000, y!, { state: 'succeeded', startedAt: SLOT, endedAt: SLOT + 1 });
      expect(await a.renew(t, SLOT + 1000, y!, 5000)).toBe(false);
      await sleep(250);
      expect(await a.renew(t, SLOT + 2000, z!, 5000)).toBe(false);
    });

    it('a running record whose lease passed is found lost by the next claim of its task, on any host, and reported once', async () => {
      const [a, b] = setup().hosts;
      const [t, other] = [task(), task()];
      const [won] = await a.claim([ask(t, SLOT, 'a', 100)]);
      await a.claim([ask(t, SLOT + 1000, 'a', 30_000)]); // still within its lease: not lost
      await sleep(250);
      const [elsewhere] = await b.claim([ask(other, SLOT, 'b')]);
      expect(elsewhere!.lost, 'a claim of another task reports nothing').toEqual([]);
      const [next] = await b.claim([ask(t, SLOT + 2000, 'b')]);
      expect(next!.won).toBe(true);
      expect(next!.lost).toHaveLength(1);
      expect(next!.lost[0]).toMatchObject({ task: t, slot: SLOT, state: 'lost', holder: holder('a'), fencingToken: (won as { fencingToken: number }).fencingToken, error: { name: 'LostFire' } });
      const [again] = await a.claim([ask(t, SLOT + 3000, 'a')]);
      expect(again!.lost).toEqual([]);
      expect((await a.history(t)).find((r) => r.slot === SLOT)!.state).toBe('lost');
      // Its holder was only slow: its end, arriving late, still tells how the run went, and the lost mark goes.
      const token = (won as { fencingToken: number }).fencingToken;
      expect(await endOne(a, t, SLOT, token, { state: 'succeeded', startedAt: SLOT, endedAt: SLOT + 400 })).toBe(true);
      const record = (await b.history(t)).find((r) => r.slot === SLOT)!;
      expect(record).toMatchObject({ state: 'succeeded', durationMs: 400 });
      expect(record.error).toBeUndefined();
    });

    it('two hosts racing for the same fires: exactly one winner each', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const slots = Array.from({ length: 20 }, (_, i) => SLOT + i * 1000);
      const [fromA, fromB] = await Promise.all([a.claim(slots.map((s) => ask(t, s, 'a'))), b.claim(slots.map((s) => ask(t, s, 'b')))]);
      for (let i = 0; i < slots.length; i++) expect([fromA[i]!.won, fromB[i]!.won].filter(Boolean), `slot ${i}`).toHaveLength(1);
      const tokens = (await a.history(t, { limit: 100 })).map((r) => r.fencingToken);
      expect(new Set(tokens).size).toBe(slots.length);
    });

    it('history: newest slot first, `limit` records at most; empty for a task without records', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      for (let i = 0; i < 5; i++) await (i % 2 ? b : a).claim([ask(t, SLOT + i * 60_000, i % 2 ? 'b' : 'a')]);
      expect((await b.history(t, { limit: 3 })).map((r) => r.slot)).toEqual([SLOT + 240_000, SLOT + 180_000, SLOT + 120_000]);
      expect((await a.history(t)).map((r) => r.holder.host)).toEqual(['a', 'b', 'a', 'b', 'a']);
      expect(await a.history(task())).toEqual([]);
    });

    it("retention keeps a buffered record while its lease runs; once it runs, the task's next fire may wait", async () => {
      const backend = await setup().withRetention?.(1);
      if (!backend) return;
      const t = task();
      const buffer = (slot: number, who: string) => ({ ...ask(t, slot, who), overlap: 'buffer-one' as const });
      const [running] = await backend.claim([buffer(SLOT, 'a')]);
      expect(await backend.claim([buffer(SLOT + 1000, 'b')])).toMatchObject([{ won: false, refused: 'buffered' }]);
      await endOne(backend, t, SLOT, (running as { fencingToken: number }).fencingToken, { state: 'succeeded', startedAt: 1, endedAt: 2 });
      // Its lease ended at the end: a claim in a later millisecond finds it passed.
      await sleep(10);
      // Past perTask: the ended record goes, the waiting one (its lease runs) stays.
      expect(await backend.claim([buffer(SLOT + 2000, 'a')])).toMatchObject([{ won: false, refused: 'overlap', holder: holder('b') }]);
      expect((await backend.history(t)).map((r) => [r.slot - SLOT, r.state])).toEqual([[2000, 'skipped'], [1000, 'buffered']]);
      expect(await backend.claim([buffer(SLOT + 1000, 'b')])).toEqual([{ won: true, fencingToken: 4, runs: 2, lost: [] }]);
      expect(await backend.claim([buffer(SLOT + 3000, 'a')]), 'nothing waits any more: the next fire may').toEqual([{ won: false, holder: holder('b'), lost: [], refused: 'buffered' }]);
    });

    it('retention: the oldest records past the limit per task go once their lease has passed; others stay', async () => {
      const backend = await setup().withRetention?.(3);
      if (!backend) return;
      const [t, other] = [task(), task()];
      await backend.claim([ask(other, SLOT, 'a', 50)]);
      for (let i = 0; i < 5; i++) await backend.claim([ask(t, SLOT + i * 1000, 'a', 50)]);
      await sleep(150);
      await backend.claim([ask(t, SLOT + 5000, 'a', 50)]);
      expect((await backend.history(t, { limit: 100 })).map((r) => r.slot)).toEqual([SLOT + 5000, SLOT + 4000, SLOT + 3000]);
      expect(await backend.history(other)).toHaveLength(1);
    });

    it('shouldRun, the plain RunCoordinator call, claims the fire of a key `${name}:${ISO}` once', async () => {
      const [a, b] = setup().hosts;
      const key = `${task()}:${new Date(SLOT).toISOString()}`;
      expect(await a.shouldRun(key, 30_000)).toBe(true);
      expect(await b.shouldRun(key, 30_000)).toBe(false);
      expect(await a.shouldRun(key, 30_000)).toBe(false);
    });

    it('pause: every claim of a fire without a record is refused; the first writes a skipped record, later ones lose; resume', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      expect(await b.taskState(t)).toEqual({ paused: false, runs: 0 });
      await a.pause(t);
      await a.pause(t);
      expect(await b.taskState(t)).toEqual({ paused: true, runs: 0 });
      const [first] = await b.claim([ask(t, SLOT, 'b')]);
      expect(first).toEqual({ won: false, holder: undefined, lost: [], refused: 'paused' });
      const [second] = await a.claim([ask(t, SLOT, 'a')]);
      expect(second, 'the skipped fire has a record: it is reported once').toEqual({ won: false, holder: holder('b'), lost: [] });
      const [record] = await a.history(t);
      expect(record).toMatchObject({ slot: SLOT, state: 'skipped', holder: holder('b'), error: { name: 'Paused' } });
      await b.resume(t);
      expect(await a.taskState(t)).toEqual({ paused: false, runs: 0 });
      const [after] = await a.claim([ask(t, SLOT + 1000, 'a')]);
      expect(after).toMatchObject({ won: true, runs: 1 });
      expect((after as { fencingToken: number }).fencingToken).toBeGreaterThan(record!.fencingToken);
    });

    it('fleetMax: at most that many claims win across hosts; every later claim is refused with limit and writes nothing', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const answers = [];
      for (let i = 0; i < 5; i++) answers.push(...(await (i % 2 ? b : a).claim([{ ...ask(t, SLOT + i * 1000, i % 2 ? 'b' : 'a'), fleetMax: 3 }])));
      expect(answers.map((answer) => (answer.won ? `won ${answer.runs}` : answer.refused))).toEqual(['won 1', 'won 2', 'won 3', 'limit', 'limit']);
      const [again] = await b.claim([{ ...ask(t, SLOT + 4000, 'b'), fleetMax: 3 }]);
      expect(again!.won === false && again!.refused, 'a refused fire has no record, every claim of it hears the limit').toBe('limit');
      expect(await a.history(t)).toHaveLength(3);
      expect(await a.taskState(t)).toEqual({ paused: false, runs: 3 });
    });

    it("overlap 'skip': a fire claimed while another of its task runs is skipped (recorded once); after the end, or the lease, it runs", async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const [running] = await a.claim([{ ...ask(t, SLOT, 'a'), overlap: 'skip' }]);
      expect(running!.won).toBe(true);
      const [blocked] = await b.claim([{ ...ask(t, SLOT + 1000, 'b'), overlap: 'skip' }]);
      expect(blocked).toEqual({ won: false, holder: holder('a'), lost: [], refused: 'overlap' });
      const [late] = await a.claim([{ ...ask(t, SLOT + 1000, 'a'), overlap: 'skip' }]);
      expect(late).toEqual({ won: false, holder: holder('b'), lost: [] });
      const [allowed] = await b.claim([ask(t, SLOT + 2000, 'b')]);
      expect(allowed!.won, 'a claim without the policy is not blocked').toBe(true);
      const token = (running as { fencingToken: number }).fencingToken;
      await endOne(a, t, SLOT, token, { state: 'succeeded', startedAt: 1, endedAt: 2 });
      await endOne(b, t, SLOT + 2000, (allowed as { fencingToken: number }).fencingToken, { state: 'succeeded', startedAt: 1, endedAt: 2 });
      const [next] = await b.claim([{ ...ask(t, SLOT + 3000, 'b', 300), overlap: 'skip' }]);
      expect(next!.won, 'nothing runs any more').toBe(true);
      await sleep(600);
      const [afterLease] = await a.claim([{ ...ask(t, SLOT + 4000, 'a'), overlap: 'skip' }]);
      expect(afterLease, 'a run whose lease passed does not block the task: it is lost').toMatchObject({ won: true, lost: [{ slot: SLOT + 3000, state: 'lost' }] });
      const states = (await a.history(t)).map((record) => [record.slot - SLOT, record.state]);
      expect(states).toEqual([[4000, 'running'], [3000, 'lost'], [2000, 'succeeded'], [1000, 'skipped'], [0, 'succeeded']]);
    });

    it('a refused claim resent after its reply was lost hears the refusal again (its process is the one to report the fire)', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      await a.pause(t);
      const paused = ask(t, SLOT, 'b');
      await b.claim([paused]);
      expect(await b.claim([paused])).toEqual([{ won: false, holder: undefined, lost: [], refused: 'paused' }]);
      await a.resume(t);
      await a.claim([{ ...ask(t, SLOT + 1000, 'a'), overlap: 'skip' }]);
      const overlapped = { ...ask(t, SLOT + 2000, 'b'), overlap: 'skip' as const };
      await b.claim([overlapped]);
      expect(await b.claim([overlapped])).toEqual([{ won: false, holder: undefined, lost: [], refused: 'overlap' }]);
    });

    it("overlap 'buffer-one': the first fire due during a run waits (buffered), later ones are skipped; its claimant wins once the run ended", async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const buffer = (slot: number, who: string, leaseMs?: number) => ({ ...ask(t, slot, who, leaseMs), overlap: 'buffer-one' as const });
      const [running] = await a.claim([buffer(SLOT, 'a')]);
      expect(running!.won).toBe(true);
      const [waits] = await b.claim([buffer(SLOT + 1000, 'b')]);
      expect(waits).toEqual({ won: false, holder: holder('a'), lost: [], refused: 'buffered' });
      const [other] = await a.claim([buffer(SLOT + 1000, 'a')]);
      expect(other, 'another host finds the waiting record: it lost').toEqual({ won: false, holder: holder('b'), lost: [] });
      const [third] = await a.claim([buffer(SLOT + 2000, 'a')]);
      expect(third, 'one waits at most: the next fire is skipped').toMatchObject({ won: false, refused: 'overlap', holder: holder('a') });
      const [still] = await b.claim([buffer(SLOT + 1000, 'b')]);
      expect(still, 'asked again (a new claim id) while the run goes on: waits on').toMatchObject({ won: false, refused: 'buffered' });
      await endOne(a, t, SLOT, (running as { fencingToken: number }).fencingToken, { state: 'succeeded', startedAt: 1, endedAt: 2 });
      const [next] = await a.claim([buffer(SLOT + 3000, 'a')]);
      expect(next, 'the waiting fire goes first: a new fire is skipped while it waits').toMatchObject({ won: false, refused: 'overlap' });
      const [runs] = await b.claim([buffer(SLOT + 1000, 'b')]);
      expect(runs).toMatchObject({ won: true, runs: 2 });
      const records = await a.history(t);
      const earlier = records.filter((record) => record.slot !== SLOT + 1000).map((record) => record.fencingToken);
      expect((runs as { fencingToken: number }).fencingToken, 'a token above every earlier one').toBeGreaterThan(Math.max(...earlier));
      const states = records.map((record) => [record.slot - SLOT, record.state]);
      expect(states).toEqual([[3000, 'skipped'], [2000, 'skipped'], [1000, 'running'], [0, 'succeeded']]);
    });

    it("overlap 'buffer-one': a waiting fire whose claimant stopped asking is lost once its lease passed, and reported once", async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const buffer = (slot: number, who: string, leaseMs?: number) => ({ ...ask(t, slot, who, leaseMs), overlap: 'buffer-one' as const });
      await a.claim([buffer(SLOT, 'a')]);
      await b.claim([buffer(SLOT + 1000, 'b', 300)]);
      await sleep(600);
      const [found] = await a.claim([buffer(SLOT + 2000, 'a')]);
      expect(found).toMatchObject({ won: false, refused: 'buffered', lost: [{ slot: SLOT + 1000, state: 'lost', error: { name: 'LostFire' } }] });
      const [again] = await b.claim([buffer(SLOT + 1000, 'b')]);
      expect(again, 'too late: its record says lost').toMatchObject({ won: false, lost: [] });
    });

    it('a policy refusal does not hide the lapsed records it found', async () => {
      const [a, b] = setup().hosts;
      const t = task();
      await a.claim([ask(t, SLOT, 'a', 300)]);
      await sleep(600);
      await b.pause(t);
      const [refused] = await b.claim([ask(t, SLOT + 1000, 'b')]);
      expect(refused).toMatchObject({ won: false, refused: 'paused', lost: [{ slot: SLOT, state: 'lost' }] });
    });

    it("trigger: a slot near now by the backend's clock, never a whole second; listed by triggers from either host", async () => {
      const [a, b] = setup().hosts;
      // Task names may hold any character but control characters.
      const t = `${task()} {tag}:, "ünï" 名 🕐`;
      const before = Date.now();
      const slot = await a.trigger(t);
      const after = Date.now();
      expect(Number.isSafeInteger(slot)).toBe(true);
      expect(slot % 1000).not.toBe(0);
      // The backend's clock is its server's: on this machine, within a little of this process's.
      expect(slot).toBeGreaterThanOrEqual(before - 2000);
      expect(slot).toBeLessThanOrEqual(after + 2000);
      expect(await triggersOf(b, slot - 1, t)).toEqual([{ task: t, slot }]);
      expect(await triggersOf(a, slot - 1, t)).toEqual([{ task: t, slot }]);
      expect(await triggersOf(b, slot, t), 'since excludes its own slot').toEqual([]);
    });

    it('triggers: every task, oldest slot first (ties by task), after `since` only', async () => {
      const [a, b] = setup().hosts;
      const [t1, t2] = [task(), task()];
      const first = await a.trigger(t1);
      await sleep(5);
      const second = await b.trigger(t2);
      await sleep(5);
      const third = await a.trigger(t1);
      expect(first).toBeLessThan(second);
      expect(second).toBeLessThan(third);
      expect(await triggersOf(b, first - 1, t1, t2)).toEqual([{ task: t1, slot: first }, { task: t2, slot: second }, { task: t1, slot: third }]);
      expect(await triggersOf(a, first, t1, t2)).toEqual([{ task: t2, slot: second }, { task: t1, slot: third }]);
      expect(await triggersOf(a, third, t1, t2)).toEqual([]);
      const all = await b.triggers(first - 1);
      const order = (x: Trigger, y: Trigger) => x.slot - y.slot || (x.task < y.task ? -1 : x.task > y.task ? 1 : 0);
      expect(all, "with the other tests' triggers too").toEqual([...all].sort(order));
    });

    it("a trigger's slot is claimed like any fire: exactly once across hosts", async () => {
      const [a, b] = setup().hosts;
      const t = task();
      const slot = await b.trigger(t);
      const [[fromA], [fromB]] = await Promise.all([a.claim([ask(t, slot, 'a')]), b.claim([ask(t, slot, 'b')])]);
      expect([fromA!.won, fromB!.won].filter(Boolean)).toHaveLength(1);
      const [late] = await a.claim([ask(t, slot, 'a')]);
      expect(late!.won).toBe(false);
      expect((await b.history(t)).map((r) => [r.slot, r.state])).toEqual([[slot, 'running']]);
    });
  });
}
