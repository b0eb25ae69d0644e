// Each test is a node-cron 4.6 bug (research/node-cron-anatomy.md §7) that fleetcron must not have.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron from '../../src/index.js';
import { recordingLogger } from '../support/quiet-logger.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2030-06-01T12:00:00.250Z') });
});
afterEach(async () => {
  await cron.shutdown(0);
  vi.useRealTimers();
});

describe('node-cron 4.6 bugs, fixed', () => {
  it('B1: a once() listener fires once', async () => {
    const task = cron.schedule('* * * * * *', () => undefined);
    let calls = 0;
    task.once('execution:finished', () => void calls++);
    await vi.advanceTimersByTimeAsync(3000);
    expect(calls).toBe(1);
  });

  it('B2: overlapping runs keep getStatus()/isBusy() true until the last one ends', async () => {
    const task = cron.schedule('* * * * * *', () => new Promise((r) => setTimeout(r, 1500)), { logger: recordingLogger() });
    const overlaps: string[] = [];
    task.on('execution:overlap', (ctx) => void overlaps.push(ctx.date.toISOString()));
    await vi.advanceTimersByTimeAsync(2000); // runs of :01 and :02 both in flight
    expect(overlaps).toEqual(['2030-06-01T12:00:02.000Z']);
    await vi.advanceTimersByTimeAsync(800); // :01 has ended, :02 still runs
    expect(task.getStatus()).toBe('running');
    expect(task.isBusy()).toBe(true);
    task.stop();
    await vi.advanceTimersByTimeAsync(2000);
    expect(task.getStatus()).toBe('stopped');
  });

  it('B3: maxExecutions counts failed runs and destroys the task', async () => {
    const logger = recordingLogger();
    let runs = 0;
    const task = cron.schedule('* * * * * *', () => {
      runs++;
      throw new Error('always');
    }, { maxExecutions: 2, logger });
    const events: string[] = [];
    for (const e of ['execution:failed', 'execution:maxReached', 'task:stopped', 'task:destroyed'] as const) task.on(e, () => void events.push(e));
    await vi.advanceTimersByTimeAsync(5000);
    expect(runs).toBe(2);
    expect(task.runsLeft()).toBe(0);
    expect(task.getStatus()).toBe('destroyed');
    expect(events).toEqual(['execution:failed', 'execution:failed', 'execution:maxReached', 'task:stopped', 'task:destroyed']);
    expect(cron.getTask(task.id)).toBeUndefined();
  });

  it('B3: maxExecutions is never exceeded by overlapping runs', async () => {
    let runs = 0;
    cron.schedule('* * * * * *', () => new Promise((r) => (runs++, setTimeout(r, 2500))), { maxExecutions: 2, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(8000);
    expect(runs).toBe(2);
  });

  it('B4: a coordinator that never settles skips each fire as coordinator-error, and the task goes on', async () => {
    const logger = recordingLogger();
    const task = cron.schedule('* * * * * *', () => undefined, {
      name: 'hung', distributed: true, noOverlap: true, logger,
      runCoordinator: { shouldRun: () => new Promise<boolean>(() => undefined) },
    });
    const reasons: string[] = [];
    task.on('execution:skipped', (ctx) => void reasons.push(`${ctx.date.toISOString()} ${ctx.reason}`));
    await vi.advanceTimersByTimeAsync(3600);
    expect(reasons).toEqual([
      '2030-06-01T12:00:01.000Z coordinator-error',
      '2030-06-01T12:00:02.000Z coordinator-error',
      '2030-06-01T12:00:03.000Z coordinator-error',
    ]);
    // One line for the outage, not one per fire (each timeout names its own fire, and is still the same cause).
    expect(logger.of('error')).toHaveLength(1);
    expect(logger.of('error')[0]).toMatch(/did not settle within 500 ms/);
  });

  it('B9: stop() during the random delay still completes the election (onComplete is called)', async () => {
    const completed: string[] = [];
    const task = cron.schedule('* * * * * *', () => undefined, {
      name: 'jitter', distributed: true, maxRandomDelay: 10_000,
      runCoordinator: { shouldRun: () => true, onComplete: (key) => void completed.push(key) },
    });
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    let ran = false;
    task.on('execution:started', () => void (ran = true));
    await vi.advanceTimersByTimeAsync(1000);
    task.stop();
    await vi.advanceTimersByTimeAsync(10);
    expect(ran).toBe(false);
    expect(completed).toEqual(['jitter:2030-06-01T12:00:01.000Z']);
  });

  it('B10: task:started reaches a listener attached right after schedule()', async () => {
    const task = cron.schedule('* * * * *', () => undefined);
    const seen: string[] = [];
    task.on('task:started', () => void seen.push('started'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['started']);
  });

  it('B5: a coordinator whose onComplete throws synchronously is logged and never crashes', async () => {
    const logger = recordingLogger();
    const task = cron.schedule('* * * * * *', () => 'done', {
      name: 'sync-throw', distributed: true, logger,
      runCoordinator: { shouldRun: () => true, onComplete: () => { throw new Error('release failed'); } },
    });
    const finished: string[] = [];
    task.on('execution:finished', (ctx) => void finished.push(ctx.date.toISOString()));
    await vi.advanceTimersByTimeAsync(2000);
    expect(finished).toHaveLength(2);
    expect(logger.of('error')).toEqual([
      "task \"sync-throw\": fire sync-throw:2030-06-01T12:00:01.000Z was not completed: its coordinator's onComplete failed: release failed; logged once until it succeeds again",
    ]);
  });

  it('B8: a task that fails to be created leaves nothing registered', () => {
    vi.stubEnv('NODE_CRON_RUN', undefined);
    const before = cron.getTasks().size;
    expect(() => cron.schedule('* * * * *', () => undefined, { maxExecutions: -1 })).toThrow();
    expect(() => cron.schedule('61 * * * *', () => undefined)).toThrow();
    expect(() => cron.schedule('* * * * *', () => undefined, { distributed: true, name: 'x', runCoordinator: undefined })).toThrow(/NODE_CRON_RUN/);
    expect(cron.getTasks().size).toBe(before);
    vi.unstubAllEnvs();
  });
});
