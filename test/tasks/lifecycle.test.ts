import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron from '../../src/index.js';
import type { ScheduledTask, TaskContext, TaskEvent } from '../../src/types.js';
import { recordingLogger } from '../support/quiet-logger.js';

const EVENTS: TaskEvent[] = [
  'task:started', 'task:stopped', 'task:destroyed', 'task:failed', 'execution:started', 'execution:finished',
  'execution:failed', 'execution:missed', 'execution:overlap', 'execution:maxReached', 'execution:skipped',
];

function record(task: ScheduledTask): Array<[TaskEvent, TaskContext]> {
  const seen: Array<[TaskEvent, TaskContext]> = [];
  for (const event of EVENTS) task.on(event, (ctx) => void seen.push([event, ctx]));
  return seen;
}

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2030-06-01T12:00:00.250Z') });
});
afterEach(async () => {
  await cron.shutdown(0);
  vi.useRealTimers();
});

describe('task lifecycle (node-cron 4.6 contract)', () => {
  it('createTask makes a stopped task that start/stop/destroy move through idle, stopped, destroyed', async () => {
    const task = cron.createTask('* * * * * *', () => 'ok', { logger: recordingLogger() });
    const seen = record(task);
    expect(task.getStatus()).toBe('stopped');
    expect(task.getNextRun()).toBeNull();
    task.start();
    expect(task.getStatus()).toBe('idle');
    expect(task.getNextRun()).toEqual(new Date('2030-06-01T12:00:01.000Z'));
    expect(task.msToNext()).toBe(750);
    task.stop();
    expect(task.getStatus()).toBe('stopped');
    task.start();
    task.destroy();
    expect(task.getStatus()).toBe('destroyed');
    task.start();
    expect(task.getStatus()).toBe('destroyed');
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.map(([e]) => e)).toEqual(['task:started', 'task:stopped', 'task:started', 'task:stopped', 'task:destroyed']);
  });

  it('runs on each fire with a context carrying the planned instant, then records lastRun', async () => {
    const task = cron.schedule('* * * * * *', (ctx) => ctx.date.toISOString(), { timezone: 'Asia/Kolkata' });
    const seen = record(task);
    await vi.advanceTimersByTimeAsync(2000);
    expect(seen.map(([e]) => e)).toEqual(['task:started', 'execution:started', 'execution:finished', 'execution:started', 'execution:finished']);
    const [, finished] = seen[2]!;
    expect(finished.date).toEqual(new Date('2030-06-01T12:00:01.000Z'));
    expect(finished.dateLocalIso).toBe('2030-06-01T17:30:01.000+05:30');
    expect(finished.execution).toMatchObject({ reason: 'scheduled', result: '2030-06-01T12:00:01.000Z' });
    expect(finished.task).toBe(task);
    expect(task.lastRun()).toEqual({ date: expect.any(Date), result: '2030-06-01T12:00:02.000Z' });
  });

  it('execute() runs now even when stopped, resolves with the result or rejects with the error', async () => {
    const logger = recordingLogger();
    let fail = false;
    const task = cron.createTask('0 0 1 1 *', () => {
      if (fail) throw new TypeError('nope');
      return 42;
    }, { logger });
    const seen = record(task);
    await expect(task.execute()).resolves.toBe(42);
    fail = true;
    await expect(task.execute()).rejects.toThrow(TypeError);
    expect(task.getStatus()).toBe('stopped');
    expect(seen.map(([e, ctx]) => `${e}:${ctx.execution?.reason}`)).toEqual([
      'execution:started:invoked', 'execution:finished:invoked', 'execution:started:invoked', 'execution:failed:invoked',
    ]);
    expect(task.lastRun()?.error).toBeInstanceOf(TypeError);
    expect(logger.of('error')).toEqual(['nope']);
  });

  it('introspection: getPattern, match, getNextRuns (from now or from a given date), runsLeft', () => {
    const task = cron.createTask('30 2 * * *', () => undefined, { timezone: 'America/New_York', maxExecutions: 3 });
    expect(task.getPattern()).toBe('30 2 * * *');
    expect(task.match(new Date('2030-06-02T06:30:00Z'))).toBe(true);
    expect(task.match(new Date('2030-06-02T06:31:00Z'))).toBe(false);
    expect(task.getNextRuns(2)).toEqual([new Date('2030-06-02T06:30:00Z'), new Date('2030-06-03T06:30:00Z')]);
    expect(task.getNextRuns(1, new Date('2030-12-24T00:00:00Z'))).toEqual([new Date('2030-12-24T07:30:00Z')]);
    expect(task.runsLeft()).toBe(3);
    expect(cron.createTask('* * * * *', () => undefined).runsLeft()).toBeUndefined();
  });

  it('getTasks/getTask find tasks by id until they are destroyed; getTasks is a snapshot', () => {
    const task = cron.createTask('* * * * *', () => undefined, { name: 'report' });
    expect(cron.getTask(task.id)).toBe(task);
    expect(task.name).toBe('report');
    const snapshot = cron.getTasks();
    snapshot.clear();
    expect(cron.getTasks().get(task.id)).toBe(task);
    task.destroy();
    expect(cron.getTask(task.id)).toBeUndefined();
    expect(cron.createTask('* * * * *', () => undefined).name).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('reports a fire that could not run in time as execution:missed, never runs it late', async () => {
    const logger = recordingLogger();
    let runs = 0;
    const task = cron.schedule('* * * * * *', () => void runs++, { logger });
    // The event loop is blocked for 3.5 s: the wall clock moves on while no timer can fire.
    vi.setSystemTime(Date.now() + 3500);
    await vi.advanceTimersByTimeAsync(750); // wakes at 12:00:04.500
    expect(runs).toBe(1); // :04 only, 500 ms late; :01-:03 are missed
    expect(logger.of('warn')).toHaveLength(3);
    expect(logger.of('warn')[0]).toMatch(/^missed execution at .*Possible blocking IO/);
    const seen = record(task);
    vi.setSystemTime(Date.now() + 2500);
    await vi.advanceTimersByTimeAsync(500); // wakes at 12:00:07.500
    expect(runs).toBe(2);
    expect(seen.filter(([e]) => e === 'execution:missed').map(([, ctx]) => ctx.date.toISOString())).toEqual([
      '2030-06-01T12:00:05.000Z',
      '2030-06-01T12:00:06.000Z',
    ]);
    // With a listener attached the warning is not logged (node-cron's rule).
    expect(logger.of('warn')).toHaveLength(3);
  });
});
