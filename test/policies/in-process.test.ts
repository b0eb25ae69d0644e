// Fleet-wide policies through the whole election path of one process, with the in-memory records (host-local
// election); the Redis and PostgreSQL backends run the same claim contract, and their fleets are tested apart.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron, { MemoryRunCoordinator, type RunCoordinator } from '../../src/index.js';
import { Authority } from '../../src/ipc/authority.js';
import { recordingLogger } from '../support/quiet-logger.js';

const T0 = Date.parse('2030-06-01T12:00:00.250Z');

/** In-memory records whose every call fails while `down`: a backend outage. */
class FlakyBackend extends MemoryRunCoordinator {
  down = false;
  override async claim(...args: Parameters<MemoryRunCoordinator['claim']>) {
    if (this.down) throw new Error('the backend is down');
    return super.claim(...args);
  }
}
const second = (ms: number) => Math.round((ms - T0) / 1000);

describe('fleet-wide policies, host-local records', () => {
  beforeEach(() => void vi.useFakeTimers({ now: T0 }));
  afterEach(async () => {
    await cron.shutdown(0);
    vi.useRealTimers();
  });

  it("overlap 'skip': a fire due while the task runs is not run, reported once as execution:overlap and recorded skipped", async () => {
    const backend = new MemoryRunCoordinator();
    const runs: Array<[number, number]> = [];
    const task = cron.schedule('* * * * * *', async (ctx) => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      runs.push([second(ctx.date.getTime()), second(start)]);
    }, { name: 'long', distributed: true, overlap: 'skip', runCoordinator: backend, logger: recordingLogger() });
    const overlaps: number[] = [];
    task.on('execution:overlap', (ctx) => void overlaps.push(second(ctx.date.getTime())));
    await vi.advanceTimersByTimeAsync(7000);
    task.stop();
    await vi.advanceTimersByTimeAsync(3000);
    // Each run lasts 2.5 s: runs start at 1, 4 and 7; the fires between overlap.
    expect(runs).toEqual([[1, 1], [4, 4], [7, 7]]);
    expect(overlaps).toEqual([2, 3, 5, 6]);
    const states = (await backend.history('long')).reverse().map((record) => `${second(record.slot)} ${record.state}`);
    expect(states).toEqual(['1 succeeded', '2 skipped', '3 skipped', '4 succeeded', '5 skipped', '6 skipped', '7 succeeded']);
  });

  it("overlap 'buffer-one': the first fire due during a run waits and runs right after it; the others are reported as overlap", async () => {
    const backend = new MemoryRunCoordinator();
    const runs: Array<{ fire: number; start: number; end: number }> = [];
    const task = cron.schedule('* * * * * *', async (ctx) => {
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      runs.push({ fire: second(ctx.date.getTime()), start: (start - T0) / 1000, end: (Date.now() - T0) / 1000 });
    }, { name: 'queued', distributed: true, overlap: 'buffer-one', runCoordinator: backend, logger: recordingLogger() });
    const overlaps: number[] = [];
    task.on('execution:overlap', (ctx) => void overlaps.push(second(ctx.date.getTime())));
    const skipped = vi.fn();
    task.on('execution:skipped', skipped);
    await vi.advanceTimersByTimeAsync(9000);
    task.stop();
    await vi.advanceTimersByTimeAsync(6000);
    // Never two at once; each run after the first starts within a poll (0.5 s) of the end of the one before.
    for (let i = 1; i < runs.length; i++) {
      expect(runs[i]!.start).toBeGreaterThanOrEqual(runs[i - 1]!.end);
      expect(runs[i]!.start - runs[i - 1]!.end).toBeLessThanOrEqual(0.5);
    }
    // Fire 2 waited for fire 1 (fire 3 was skipped, the buffer being taken), and so on.
    expect(runs.map((run) => run.fire).slice(0, 2)).toEqual([1, 2]);
    expect(runs.length).toBeGreaterThanOrEqual(3);
    // Every fire from 1 to 9 ran or was reported as overlap, once; none was skipped otherwise.
    expect([...runs.map((run) => run.fire), ...overlaps].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(skipped).not.toHaveBeenCalled();
    const states = (await backend.history('queued')).reverse().map((record) => `${second(record.slot)} ${record.state}`);
    expect(states.filter((state) => state.endsWith('succeeded'))).toEqual(runs.map((run) => `${run.fire} succeeded`));
  });

  it('fleetMaxExecutions: three runs in all, then the task stops with execution:maxReached', async () => {
    const backend = new MemoryRunCoordinator();
    let runs = 0;
    const task = cron.schedule('* * * * * *', () => void runs++, { name: 'thrice', distributed: true, fleetMaxExecutions: 3, runCoordinator: backend, logger: recordingLogger() });
    const reached = vi.fn();
    task.on('execution:maxReached', reached);
    await vi.advanceTimersByTimeAsync(6000);
    expect(runs).toBe(3);
    expect(reached).toHaveBeenCalledTimes(1);
    expect(task.getStatus()).toBe('destroyed');
    expect(await backend.taskState('thrice')).toEqual({ paused: false, runs: 3 });
    // The count is the fleet's: a new copy of the task (a restart) does not run again.
    const again = cron.schedule('* * * * * *', () => void runs++, { name: 'thrice', distributed: true, fleetMaxExecutions: 3, runCoordinator: backend, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs).toBe(3);
    expect(again.getStatus()).toBe('destroyed');
  });

  it('pause: fires are skipped with reason paused and recorded so; resume: they run again', async () => {
    const backend = new MemoryRunCoordinator();
    const ran: number[] = [];
    const task = cron.schedule('* * * * * *', (ctx) => void ran.push(second(ctx.date.getTime())), { name: 'pausable', distributed: true, runCoordinator: backend, logger: recordingLogger() });
    const skipped: string[] = [];
    task.on('execution:skipped', (ctx) => void skipped.push(`${second(ctx.date.getTime())} ${ctx.reason}`));
    await vi.advanceTimersByTimeAsync(1000);
    await backend.pause('pausable');
    await vi.advanceTimersByTimeAsync(2000);
    await backend.resume('pausable');
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran).toEqual([1, 4]);
    expect(skipped).toEqual(['2 paused', '3 paused']);
    const records = (await backend.history('pausable')).reverse();
    expect(records.map((record) => `${second(record.slot)} ${record.state}`)).toEqual(['1 succeeded', '2 skipped', '3 skipped', '4 succeeded']);
    expect(records[1]!.error).toEqual({ name: 'Paused', message: 'the task was paused' });
  });

  it('catchUp: the latest fire of the window that nobody ran runs once at start, with ctx.catchUp; never again, never one with a record', async () => {
    const backend = new MemoryRunCoordinator();
    const runs: string[] = [];
    const options = { name: 'nightly', distributed: true, catchUp: 10_000, runCoordinator: backend, logger: recordingLogger() } as const;
    const schedule = () => cron.schedule('*/2 * * * * *', (ctx) => void runs.push(`${second(ctx.date.getTime())}${ctx.catchUp ? ' catch-up' : ''} at ${second(Date.now())}`), options);
    let task = schedule();
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs, 'the fire at 0 predates these in-memory records (they began with the task): nobody can say it did not run').toEqual(['2 at 2']);
    task.destroy();
    // The whole "fleet" is down across the fires at 4, 6 and 8; it starts again at 9, within the window.
    await vi.advanceTimersByTimeAsync(7000);
    task = schedule();
    await vi.advanceTimersByTimeAsync(1500);
    expect(runs).toEqual(['2 at 2', '8 catch-up at 9', '10 at 10']);
    task.destroy();
    // A second restart: the fire at 8 has a record now, and so has the one at 10.
    task = schedule();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toHaveLength(3);
    const states = (await backend.history('nightly')).reverse().map((record) => `${second(record.slot)} ${record.state}`);
    expect(states).toEqual(['2 succeeded', '8 succeeded', '10 succeeded']);
  });

  it('catchUp after an outage of the backend: the latest fire it left unrun runs once when the backend answers again, within the window', async () => {
    const backend = new FlakyBackend();
    const runs: string[] = [];
    const logger = recordingLogger();
    const task = cron.schedule('*/2 * * * * *', (ctx) => void runs.push(`${second(ctx.date.getTime())}${ctx.catchUp ? ' catch-up' : ''} at ${second(Date.now())}`), {
      name: 'outage', distributed: true, catchUp: 10_000, runCoordinator: backend, logger,
    });
    const skipped: string[] = [];
    task.on('execution:skipped', (ctx) => void skipped.push(`${second(ctx.date.getTime())} ${ctx.reason}`));
    await vi.advanceTimersByTimeAsync(2000);
    backend.down = true;
    await vi.advanceTimersByTimeAsync(5000);
    expect(skipped, 'each fire of the outage is reported as it happens').toEqual(['4 coordinator-error', '6 coordinator-error']);
    backend.down = false;
    await vi.advanceTimersByTimeAsync(2000);
    // Back at 7.25: the fire at 6 (the latest) is caught up once, at the next try (each second); the one at 4 is not.
    expect(runs.sort()).toEqual(['2 at 2', '6 catch-up at 8', '8 at 8']);
    await vi.advanceTimersByTimeAsync(4000);
    expect(runs.filter((run) => run.includes('catch-up'))).toHaveLength(1);
    const states = (await backend.history('outage')).reverse().map((record) => `${second(record.slot)} ${record.state}`);
    expect(states).toEqual(['2 succeeded', '6 succeeded', '8 succeeded', '10 succeeded', '12 succeeded']);

    // A second outage, of fires 14 to 26: one catch-up again, of the latest.
    backend.down = true;
    await vi.advanceTimersByTimeAsync(14_000);
    backend.down = false;
    await vi.advanceTimersByTimeAsync(2000);
    expect(runs.filter((run) => run.includes('catch-up')).sort()).toEqual(['26 catch-up at 28', '6 catch-up at 8']);
  });

  it('catchUp: a fire that left the window before the backend came back is not run, and the task says so once', async () => {
    const backend = new FlakyBackend();
    const runs: number[] = [];
    const logger = recordingLogger();
    cron.schedule('0 * * * * *', (ctx) => void runs.push(second(ctx.date.getTime())), { name: 'hourly', distributed: true, catchUp: 10_000, runCoordinator: backend, logger });
    await vi.advanceTimersByTimeAsync(59_000);
    backend.down = true;
    await vi.advanceTimersByTimeAsync(15_000);
    backend.down = false;
    await vi.advanceTimersByTimeAsync(30_000);
    expect(runs).toEqual([]);
    expect(logger.lines.filter((line) => line.includes('was not caught up'))).toEqual([
      expect.stringMatching(/fire .*T12:01:00\.000Z was not caught up: the coordinator was not reachable again within the catchUp window \(10000 ms\): the upstream coordinator failed: the backend is down/),
    ]);
  });

  it('catchUp at start while the backend is out: tried again until it answers; stop() ends the tries', async () => {
    const backend = new FlakyBackend();
    const runs: string[] = [];
    const options = { name: 'late-start', distributed: true, catchUp: 60_000, runCoordinator: backend, logger: recordingLogger() } as const;
    const fn = (ctx: { date: Date; catchUp?: boolean }) => void runs.push(`${second(ctx.date.getTime())}${ctx.catchUp ? ' catch-up' : ''}`);
    let task = cron.schedule('0 * * * * *', fn, options);
    await vi.advanceTimersByTimeAsync(60_000);
    task.destroy();
    await vi.advanceTimersByTimeAsync(61_000);
    backend.down = true;
    task = cron.schedule('0 * * * * *', fn, options);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(runs).toEqual(['60']);
    backend.down = false;
    await vi.advanceTimersByTimeAsync(7000);
    expect(runs).toEqual(['60', '120 catch-up']);
    task.stop();
    backend.down = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(vi.getTimerCount(), 'a stopped task leaves no retry behind').toBe(0);
  });

  it('trigger: an extra fire now, run once by one of the copies of the task, with ctx.triggered, recorded; a stopped task does not hear it', async () => {
    const backend = new MemoryRunCoordinator();
    const runs: string[] = [];
    const options = { name: 'report', distributed: true, runCoordinator: backend, timezone: 'UTC', logger: recordingLogger() } as const;
    const copies = ['a', 'b'].map((copy) => cron.schedule('0 0 1 1 *', (ctx) => void runs.push(`${copy} ${ctx.triggered === true}`), options));
    const skipped = vi.fn();
    for (const copy of copies) copy.on('execution:skipped', skipped);
    await vi.advanceTimersByTimeAsync(100);
    const slot = await backend.trigger('report');
    expect(slot % 1000, 'never a whole second: never a fire of a schedule').not.toBe(0);
    await vi.advanceTimersByTimeAsync(1500);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatch(/^[ab] true$/);
    expect(skipped, 'the copy that lost the trigger says nothing').not.toHaveBeenCalled();
    expect((await backend.history('report')).map((record) => [record.slot, record.state])).toEqual([[slot, 'succeeded']]);
    for (const copy of copies) copy.stop();
    await backend.trigger('report');
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toHaveLength(1);
    expect(vi.getTimerCount(), 'stopped tasks leave no poll behind').toBe(0);
  });

  it('the policies need distributed: true and a coordinator that keeps records; the errors say which', () => {
    const plain: RunCoordinator = { shouldRun: () => true };
    expect(() => cron.schedule('* * * * *', () => {}, { name: 'x', overlap: 'skip' })).toThrow(/need `distributed: true`; within one process use `noOverlap: true`/);
    expect(() => cron.schedule('* * * * *', () => {}, { name: 'x', fleetMaxExecutions: 2 })).toThrow(/within one process use `maxExecutions`/);
    expect(() => cron.schedule('* * * * *', () => {}, { name: 'x', distributed: true, overlap: 'skip', runCoordinator: plain })).toThrow(
      /`overlap: 'skip'` need a coordinator that keeps fire records — RedisLockCoordinator .*implements only shouldRun\/onComplete/,
    );
    expect(() => cron.schedule('* * * * *', () => {}, { name: 'x', distributed: true, overlap: 'never' as 'skip' })).toThrow(/option `overlap` must be 'allow', 'skip' or 'buffer-one' \(got 'never'\)/);
    expect(() => cron.schedule('* * * * *', () => {}, { name: 'x', distributed: true, fleetMaxExecutions: 0 })).toThrow(/option `fleetMaxExecutions` must be a positive integer/);
    expect(cron.getTasks().size).toBe(0);
  });
});

describe('a host authority without upstream (host-local records)', () => {
  it('pauses and resumes a task for the whole host; its paused fires are refused to the first asker only', async () => {
    const authority = new Authority({ logger: recordingLogger() });
    const slot = Date.now() + 50;
    const key = (at: number) => `hostwide:${new Date(at).toISOString()}`;
    await authority.pause('hostwide');
    expect(await authority.taskState('hostwide')).toEqual({ paused: true, runs: 0 });
    const [first, second] = await Promise.all([
      authority.elect({ key: key(slot), ttlMs: 1000, slot, deadline: slot + 1000 }, { id: 'w1' }),
      authority.elect({ key: key(slot), ttlMs: 1000, slot, deadline: slot + 1000 }, { id: 'w2' }),
    ]);
    expect([first, second]).toEqual([{ elected: false, refused: 'paused' }, { elected: false }]);
    await authority.resume('hostwide');
    expect(await authority.elect({ key: key(slot + 1000), ttlMs: 1000, slot: slot + 1000, deadline: slot + 2000 }, { id: 'w1' })).toMatchObject({ elected: true });
    expect(await authority.taskState('hostwide')).toEqual({ paused: false, runs: 1 });
  });

  it("a plain upstream keeps no records: pause is refused, and a fire asking for a policy is a coordinator error that says why", async () => {
    const authority = new Authority({ upstream: { shouldRun: () => true }, logger: recordingLogger() });
    await expect(authority.pause('x')).rejects.toThrow(/keeps no fire records/);
    const slot = Date.now() + 50;
    const verdict = await authority.elect({ key: `x:${new Date(slot).toISOString()}`, ttlMs: 1000, slot, deadline: slot + 1000, overlap: 'skip' }, { id: 'w1' });
    expect(verdict).toEqual({ error: expect.stringMatching(/needs fire records; this host's coordinator \(Object\) keeps none/) });
  });
});
