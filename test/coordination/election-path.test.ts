import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron, { EnvVarRunCoordinator, MemoryRunCoordinator, type RunCoordinator } from '../../src/index.js';
import { recordingLogger } from '../support/quiet-logger.js';

beforeEach(() => {
  vi.useFakeTimers({ now: Date.parse('2030-06-01T12:00:00.250Z') });
});
afterEach(async () => {
  await cron.shutdown(0);
  cron.setRunCoordinator(undefined);
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

function spy(answer: (key: string) => boolean | Promise<boolean>) {
  const calls: string[] = [];
  const coordinator: RunCoordinator = {
    shouldRun: (key, ttl) => (calls.push(`shouldRun ${key} ${ttl}`), answer(key)),
    onComplete: (key) => void calls.push(`onComplete ${key}`),
  };
  return { calls, coordinator };
}

describe('the election path of a distributed task', () => {
  it('asks with key `${name}:${slot ISO}` and the lease, runs when elected, then completes', async () => {
    const { calls, coordinator } = spy(() => true);
    const order: string[] = [];
    const task = cron.schedule('* * * * * *', () => void order.push('run'), { name: 'backup', distributed: true, distributedLease: 1234, runCoordinator: coordinator, timezone: 'Asia/Tokyo' });
    task.on('execution:started', () => void order.push('started'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual(['shouldRun backup:2030-06-01T12:00:01.000Z 1234', 'onComplete backup:2030-06-01T12:00:01.000Z']);
    expect(order).toEqual(['started', 'run']);
  });

  it('skips with not-elected when the coordinator says no, and does not complete', async () => {
    const { calls, coordinator } = spy(() => false);
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'n', distributed: true, runCoordinator: coordinator });
    const skipped: string[] = [];
    task.on('execution:skipped', (ctx) => void skipped.push(`${ctx.reason} ${ctx.date.toISOString()}`));
    await vi.advanceTimersByTimeAsync(2000);
    expect(skipped).toEqual(['not-elected 2030-06-01T12:00:01.000Z', 'not-elected 2030-06-01T12:00:02.000Z']);
    expect(calls.filter((c) => c.startsWith('onComplete'))).toEqual([]);
  });

  it('completes after a failed run too', async () => {
    const { calls, coordinator } = spy(() => true);
    cron.schedule('* * * * * *', () => { throw new Error('x'); }, { name: 'f', distributed: true, runCoordinator: coordinator, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toEqual(['shouldRun f:2030-06-01T12:00:01.000Z 30000', 'onComplete f:2030-06-01T12:00:01.000Z']);
  });

  it('fails closed on a throw, a rejection or a non-boolean answer: coordinator-error, one logged error each', async () => {
    const answers = [() => { throw new Error('sync'); }, () => Promise.reject(new Error('async')), () => 'yes' as unknown as boolean];
    let i = 0;
    const logger = recordingLogger();
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'e', distributed: true, logger, runCoordinator: { shouldRun: () => answers[i++]!() } });
    const reasons: string[] = [];
    task.on('execution:skipped', (ctx) => void reasons.push(ctx.reason!));
    await vi.advanceTimersByTimeAsync(3000);
    expect(reasons).toEqual(['coordinator-error', 'coordinator-error', 'coordinator-error']);
    expect(logger.of('error')).toEqual([
      'Run coordinator failed; skipping execution (fail-closed) sync',
      'Run coordinator failed; skipping execution (fail-closed) async',
      'Run coordinator failed; skipping execution (fail-closed) Run coordinator shouldRun(e:2030-06-01T12:00:03.000Z) returned yes, expected a boolean',
    ]);
  });

  it('honours electionTimeout', async () => {
    const task = cron.schedule('0 * * * * *', () => undefined, {
      name: 'slow', distributed: true, electionTimeout: 200, logger: recordingLogger(),
      runCoordinator: { shouldRun: () => new Promise((r) => setTimeout(() => r(true), 300)) },
    });
    const reasons: string[] = [];
    task.on('execution:skipped', (ctx) => void reasons.push(ctx.reason!));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reasons).toEqual(['coordinator-error']);
  });

  it('applies the random delay after the election, and only on the elected process', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const { coordinator } = spy(() => true);
    const starts: number[] = [];
    const task = cron.schedule('* * * * * *', () => void starts.push(Date.now()), { name: 'j', distributed: true, maxRandomDelay: 400, runCoordinator: coordinator });
    await vi.advanceTimersByTimeAsync(1300);
    expect(starts).toEqual([Date.parse('2030-06-01T12:00:01.200Z')]);
    task.destroy();
  });

  it('execute() stays uncoordinated, as in node-cron', async () => {
    const { calls, coordinator } = spy(() => false);
    const task = cron.createTask('* * * * *', () => 'manual', { name: 'm', distributed: true, runCoordinator: coordinator });
    await expect(task.execute()).resolves.toBe('manual');
    expect(calls).toEqual([]);
  });

  it('uses the per-task coordinator over the process-wide one, and the process-wide one over NODE_CRON_RUN', async () => {
    const global = spy(() => true);
    const perTask = spy(() => true);
    cron.setRunCoordinator(global.coordinator);
    cron.schedule('* * * * * *', () => undefined, { name: 'a', distributed: true, runCoordinator: perTask.coordinator });
    cron.schedule('* * * * * *', () => undefined, { name: 'b', distributed: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(perTask.calls[0]).toMatch(/^shouldRun a:/);
    expect(global.calls[0]).toMatch(/^shouldRun b:/);
    expect(() => cron.setRunCoordinator({} as RunCoordinator)).toThrow(/shouldRun/);
  });

  it('shares one winner per fire among the tasks of a MemoryRunCoordinator', async () => {
    const memory = new MemoryRunCoordinator();
    let runs = 0;
    for (let i = 0; i < 5; i++) cron.schedule('* * * * * *', () => void runs++, { name: 'shared', distributed: true, runCoordinator: memory });
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toBe(3);
  });
});

describe('NODE_CRON_RUN, the default coordinator of a standalone process', () => {
  it('throws at schedule time when unset or not exactly true/false, showing the value and the other choices, leaving nothing registered', () => {
    for (const [value, shown] of [[undefined, 'it is not set'], ['TRUE', "got 'TRUE'"], ['1', "got '1'"], ['', "got ''"]] as const) {
      vi.stubEnv('NODE_CRON_RUN', value);
      const before = cron.getTasks().size;
      const schedule = () => cron.schedule('* * * * *', () => undefined, { name: 'x', distributed: true });
      expect(schedule).toThrow(`fleetcron: a \`distributed\` task needs NODE_CRON_RUN set to 'true' or 'false' (${shown}).`);
      expect(schedule).toThrow(/per-task `runCoordinator`.*MemoryRunCoordinator.*RedisLockCoordinator.*serveCluster\(\).*arbiter/);
      expect(cron.getTasks().size).toBe(before);
    }
  });

  it('runs with true, skips with false, and re-reads the variable at each fire', async () => {
    vi.stubEnv('NODE_CRON_RUN', 'true');
    const logger = recordingLogger();
    const outcomes: string[] = [];
    const task = cron.schedule('* * * * * *', () => void outcomes.push('run'), { name: 'env', distributed: true, logger });
    task.on('execution:skipped', (ctx) => void outcomes.push(ctx.reason!));
    await vi.advanceTimersByTimeAsync(1000);
    vi.stubEnv('NODE_CRON_RUN', 'false');
    await vi.advanceTimersByTimeAsync(1000);
    vi.stubEnv('NODE_CRON_RUN', 'yes');
    await vi.advanceTimersByTimeAsync(1000);
    expect(outcomes).toEqual(['run', 'not-elected', 'coordinator-error']);
  });

  it('is exported for explicit use with another variable name', () => {
    vi.stubEnv('IS_RUNNER', 'true');
    expect(new EnvVarRunCoordinator('IS_RUNNER').shouldRun()).toBe(true);
  });

  it('requires a name for a distributed task', () => {
    expect(() => cron.schedule('* * * * *', () => undefined, { distributed: true })).toThrow('`distributed` requires a `name`');
  });
});
