// Fire records through the election path: what a task's function and a coordinator's history show, with the
// in-memory backend (the Redis and PostgreSQL ones run the same contract; their fleets are tested apart).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron, { MemoryRunCoordinator, type TaskContext } from '../../../src/index.js';
import type { FireBackend } from '../../../src/coordination/records/backend.js';
import { Authority, type Peer } from '../../../src/ipc/authority.js';
import type { Notice } from '../../../src/ipc/protocol.js';
import { recordingLogger } from '../../support/quiet-logger.js';

const T0 = Date.parse('2030-06-01T12:00:00.250Z');

describe('a task whose coordinator keeps records', () => {
  beforeEach(() => void vi.useFakeTimers({ now: T0 }));
  afterEach(async () => {
    await cron.shutdown(0);
    vi.useRealTimers();
  });

  it('gets a fencing token per run, strictly increasing, and each fire is recorded with its outcome', async () => {
    const backend = new MemoryRunCoordinator();
    const tokens: number[] = [];
    let n = 0;
    cron.schedule('* * * * * *', (ctx) => {
      tokens.push(ctx.fencingToken!);
      if (++n === 2) throw new TypeError('the second run fails');
    }, { name: 'nightly', distributed: true, runCoordinator: backend, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(3000);
    expect(tokens).toEqual([1, 2, 3]);
    const history = await backend.history('nightly');
    expect(history.map((r) => [new Date(r.slot).toISOString(), r.state, r.fencingToken])).toEqual([
      ['2030-06-01T12:00:03.000Z', 'succeeded', 3],
      ['2030-06-01T12:00:02.000Z', 'failed', 2],
      ['2030-06-01T12:00:01.000Z', 'succeeded', 1],
    ]);
    expect(history[1]!.error).toEqual({ name: 'TypeError', message: 'the second run fails' });
    for (const record of history) {
      expect(record.holder.pid).toBe(process.pid);
      expect(record.durationMs).toBeGreaterThanOrEqual(0);
      expect(record.startedAt).toBeGreaterThanOrEqual(record.slot);
    }
  });

  it('a run longer than its lease keeps its claim: renewed at half the lease, no other claim of it wins', async () => {
    const backend = new MemoryRunCoordinator();
    const renew = vi.spyOn(backend, 'renew');
    let signal: AbortSignal | undefined;
    let finish!: () => void;
    cron.schedule('0 * * * * *', (ctx) => {
      signal = ctx.signal;
      return new Promise<void>((resolve) => (finish = resolve));
    }, { name: 'long', distributed: true, distributedLease: 2000, runCoordinator: backend, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(60_000 + 9000);
    expect(renew.mock.calls.length).toBeGreaterThanOrEqual(8);
    expect(signal!.aborted).toBe(false);
    const [record] = await backend.history('long');
    expect(record).toMatchObject({ state: 'running', fencingToken: 1 });
    expect(record!.leaseUntil).toBeGreaterThan(Date.now());
    // Another host reaching the same fire now still loses it.
    expect(await backend.shouldRun(`long:${new Date(record!.slot).toISOString()}`, 2000)).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(10);
    const [ended] = await backend.history('long');
    expect(ended!.state).toBe('succeeded');
    expect(ended!.durationMs).toBeGreaterThan(9000);
    const calls = renew.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(renew.mock.calls.length, 'no renewal once the run has ended').toBe(calls);
  });

  it('ctx.signal aborts when the claim cannot be renewed past its lease, with the reason', async () => {
    const backend = new MemoryRunCoordinator();
    vi.spyOn(backend, 'renew').mockRejectedValue(new Error('connect ECONNREFUSED 127.0.0.1:6379'));
    let signal: AbortSignal | undefined;
    const logger = recordingLogger();
    cron.schedule('0 * * * * *', (ctx) => {
      signal = ctx.signal;
      return new Promise<void>((resolve) => ctx.signal!.addEventListener('abort', () => resolve()));
    }, { name: 'cut-off', distributed: true, distributedLease: 2000, runCoordinator: backend, logger });
    await vi.advanceTimersByTimeAsync(60_000 + 1500);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(2000);
    expect(signal!.aborted).toBe(true);
    expect(String((signal!.reason as Error).message)).toMatch(/lost its claim: its lease could not be renewed before it ran out \(connect ECONNREFUSED/);
  });

  it('the backend gone mid-run: ctx.signal aborts, and once the backend is back the record says how the run ended and why', async () => {
    const backend = new MemoryRunCoordinator();
    let down = false;
    const unreachable = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    vi.spyOn(backend, 'renew').mockImplementation((...args) => (down ? unreachable() : MemoryRunCoordinator.prototype.renew.apply(backend, args)));
    vi.spyOn(backend, 'end').mockImplementation((...args) => (down ? unreachable() : MemoryRunCoordinator.prototype.end.apply(backend, args)));
    cron.schedule('0 * * * * *', async (ctx) => {
      down = true;
      await new Promise((resolve, reject) => ctx.signal!.addEventListener('abort', () => reject(ctx.signal!.reason)));
    }, { name: 'copy', distributed: true, distributedLease: 2000, runCoordinator: backend, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(60_000 + 3000);
    expect((await backend.history('copy'))[0]!.state, 'the end could not be written yet').toBe('running');
    down = false;
    await vi.advanceTimersByTimeAsync(5000);
    const [record] = await backend.history('copy');
    expect(record).toMatchObject({ state: 'failed', error: { name: 'Error' } });
    expect(record!.error!.message).toMatch(/lost its claim: its lease could not be renewed before it ran out \(connect ECONNREFUSED/);
  });

  it('ctx.signal aborts when shutdown() reaches its timeout with the run still going', async () => {
    let signal: AbortSignal | undefined;
    cron.schedule('* * * * * *', (ctx) => {
      signal = ctx.signal;
      return new Promise<void>((resolve) => ctx.signal!.addEventListener('abort', () => resolve()));
    }, { name: 'slow' });
    await vi.advanceTimersByTimeAsync(1000);
    const done = cron.shutdown(500);
    await vi.advanceTimersByTimeAsync(400);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(200);
    await done;
    expect(signal!.aborted).toBe(true);
  });
});

describe('two hosts sharing one backend: a fire whose holder went silent', () => {
  afterEach(() => void vi.useRealTimers());

  /** A host: its own authority over the shared backend, a peer per process. */
  function host(backend: FireBackend, name: string) {
    const errors: string[] = [];
    const notices: Notice[] = [];
    const logger = { info() {}, warn() {}, error: (m: string | Error) => void errors.push(String(m)), debug() {} };
    const authority = new Authority({ upstream: backend, logger });
    const peer: Peer = { id: `${name} worker`, pid: name === 'a' ? 101 : 202, notify: (notice) => void notices.push(notice) };
    const elect = (slot: number, ttlMs = 100) => authority.elect({ key: `backup:${new Date(slot).toISOString()}`, ttlMs, slot, deadline: Date.now() + 1000 }, peer);
    return { authority, peer, errors, notices, elect };
  }

  it('the next claim of the task, on the other host, reports it lost once, naming the last holder', async () => {
    const shared = new MemoryRunCoordinator();
    // Two objects on one store, as two hosts have two clients of one Redis.
    const facade = (): FireBackend => ({
      shouldRun: (key, ttl) => shared.shouldRun(key, ttl),
      claim: (requests) => shared.claim(requests),
      renew: async () => {
        throw new Error('host a is cut off');
      },
      end: (...args) => shared.end(...args),
      history: (task, options) => shared.history(task, options),
      pause: (task) => shared.pause(task),
      resume: (task) => shared.resume(task),
      taskState: (task) => shared.taskState(task),
      trigger: (task) => shared.trigger(task),
      triggers: (since) => shared.triggers(since),
    });
    const [a, b] = [host(facade(), 'a'), host(shared, 'b')];
    const slot = Date.now() + 10;
    expect(await a.elect(slot)).toEqual({ elected: true, fencingToken: 1 });
    a.authority.started(`backup:${new Date(slot).toISOString()}`, a.peer);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Host a could not renew: its run is told to stop.
    expect(a.notices).toEqual([expect.objectContaining({ kind: 'revoked', key: `backup:${new Date(slot).toISOString()}` })]);
    expect(await b.elect(slot + 1000)).toEqual({ elected: true, fencingToken: 2 });
    expect(b.notices).toEqual([
      expect.objectContaining({ kind: 'lost', key: `backup:${new Date(slot).toISOString()}`, ran: true, remote: true, cause: expect.stringMatching(/holder \(.*, pid 101\) did not end it/) }),
    ]);
    expect(b.errors.filter((line) => line.includes('was lost'))).toHaveLength(1);
    // Reported once: a later claim, on either host, says nothing more of it.
    expect(await a.elect(slot + 2000)).toMatchObject({ elected: true });
    expect(await b.elect(slot + 3000)).toMatchObject({ elected: true });
    expect(b.notices.filter((n) => n.kind === 'lost')).toHaveLength(1);
    expect(a.notices.filter((n) => n.kind === 'lost')).toHaveLength(0);
    expect((await shared.history('backup')).map((r) => r.state)).toEqual(['running', 'running', 'running', 'lost']);
  });

  it('a task hears of it: execution:lost with the lost fire as ctx.date', async () => {
    const shared = new MemoryRunCoordinator();
    const stale = { task: 'report', slot: Date.now() - 60_000, leaseMs: 1, holder: { host: 'elsewhere', pid: 7, incarnation: 'x' }, claimId: 'c' };
    await shared.claim([stale]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const lost: TaskContext[] = [];
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'report', distributed: true, runCoordinator: shared, logger: recordingLogger() });
    task.on('execution:lost', (ctx) => void lost.push(ctx));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    task.destroy();
    expect(lost.map((ctx) => ctx.date.getTime())).toEqual([stale.slot]);
    expect(lost[0]!.error!.message).toMatch(/elsewhere, pid 7/);
  });
});
