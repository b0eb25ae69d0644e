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

  it('fails closed on a throw, a rejection or a non-boolean answer: coordinator-error, each new cause logged on one line', async () => {
    const answers = [() => { throw new Error('sync'); }, () => Promise.reject(new Error('async')), () => 'yes' as unknown as boolean];
    let i = 0;
    const logger = recordingLogger();
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'e', distributed: true, logger, runCoordinator: { shouldRun: () => answers[i++]!() } });
    const reasons: string[] = [];
    task.on('execution:skipped', (ctx) => void reasons.push(ctx.reason!));
    await vi.advanceTimersByTimeAsync(3000);
    expect(reasons).toEqual(['coordinator-error', 'coordinator-error', 'coordinator-error']);
    const until = 'fires are skipped (coordinator-error) until it answers';
    expect(logger.of('error')).toEqual([
      `task "e": fire e:2030-06-01T12:00:01.000Z was not run: its coordinator failed: sync; ${until}`,
      `task "e": fire e:2030-06-01T12:00:02.000Z was not run: its coordinator failed: async; ${until}`,
      `task "e": fire e:2030-06-01T12:00:03.000Z was not run: its coordinator failed: Run coordinator shouldRun(e:2030-06-01T12:00:03.000Z) returned yes, expected a boolean; ${until}`,
    ]);
  });

  it('logs an outage once per task, not per fire: its cause on one line, no stack, then its end with the fires it skipped', async () => {
    let down = true;
    const errors: unknown[][] = [];
    const infos: string[] = [];
    const logger = { info: (m: string) => void infos.push(m), warn() {}, error: (...args: unknown[]) => void errors.push(args), debug() {} };
    const coordinator: RunCoordinator = {
      shouldRun: () => {
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379\n    at TCPConnectWrap.afterConnect');
        return true;
      },
    };
    const skipped = new Map<string, number>();
    const ran: string[] = [];
    for (const name of ['a', 'b']) {
      const task = cron.schedule('* * * * * *', () => void ran.push(name), { name, distributed: true, logger, runCoordinator: coordinator });
      task.on('execution:skipped', (ctx) => void skipped.set(name, (skipped.get(name) ?? 0) + (ctx.reason === 'coordinator-error' ? 1 : 0)));
    }
    await vi.advanceTimersByTimeAsync(12_000);
    // Every fire is still reported as an event; the log has one line per task, the message alone, on one line.
    expect(Object.fromEntries(skipped)).toEqual({ a: 12, b: 12 });
    expect(errors.map((args) => args.length)).toEqual([1, 1]);
    expect(errors.map(([line]) => line)).toEqual(['a', 'b'].map((name) =>
      `task "${name}": fire ${name}:2030-06-01T12:00:01.000Z was not run: its coordinator failed: connect ECONNREFUSED 127.0.0.1:6379 at TCPConnectWrap.afterConnect; fires are skipped (coordinator-error) until it answers`));
    expect(infos).toEqual([]);
    down = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ran.sort()).toEqual(['a', 'b']);
    expect(infos).toEqual(['a', 'b'].map((name) => `task "${name}": its coordinator answers again; 12 fire(s) were skipped (coordinator-error) meanwhile`));
    // A later outage is a new one: logged again, counted from zero.
    down = true;
    await vi.advanceTimersByTimeAsync(2000);
    down = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(4);
    expect(infos.slice(2)).toEqual(['a', 'b'].map((name) => `task "${name}": its coordinator answers again; 2 fire(s) were skipped (coordinator-error) meanwhile`));
  });

  it("logs a failing onComplete once until it succeeds again, and the fires run meanwhile", async () => {
    let failing = true;
    const logger = recordingLogger();
    const runs: number[] = [];
    cron.schedule('* * * * * *', () => void runs.push(Date.now()), {
      name: 'c', distributed: true, logger,
      runCoordinator: { shouldRun: () => true, onComplete: () => { if (failing) throw new Error('release failed'); } },
    });
    await vi.advanceTimersByTimeAsync(3000);
    expect(runs).toHaveLength(3);
    expect(logger.of('error')).toEqual([
      "task \"c\": fire c:2030-06-01T12:00:01.000Z was not completed: its coordinator's onComplete failed: release failed; logged once until it succeeds again",
    ]);
    failing = false;
    await vi.advanceTimersByTimeAsync(1000);
    expect(logger.of('info')).toEqual(["task \"c\": its coordinator's onComplete answers again; 3 fire(s) were not completed meanwhile"]);
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
