import { describe, expect, it } from 'vitest';
import type { Fixture } from '../support/processes.js';
import { backgroundFixtures, hasExited, ofType, waitExited } from './support.js';

const start = backgroundFixtures();

/** The daemon-dies scenario up to its end: what the parent saw, in order. */
async function afterDeath(app: Fixture) {
  await app.until(ofType('end'), 30_000, 'the scenario to end');
  const upTo = app.reports.findIndex((r) => r.type === 'after');
  const seen = app.reports.slice(0, upTo).filter((r) => r.type === 'event').map((r) => `${r.label} ${r.event} ${r.status}`);
  return { seen, reports: app.reports, settled: app.of('execute-settled')[0]!, after: app.of('after')[0]!, failed: app.of('event').filter((r) => r.event === 'task:failed') };
}

describe('a daemon that dies is noticed by its parent', () => {
  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`killed by ${signal}: the run in flight and execute() fail, every task it hosted emits task:failed and is stopped`, async () => {
      const app = start('failures.ts', { SCENARIO: 'daemon-dies' });
      await app.until(ofType('slow-start'), 20_000, 'the run to start in the daemon');
      const daemon = app.of('slow-start')[0]!.pid as number;
      process.kill(daemon, signal);
      const { seen, settled, after, failed, reports } = await afterDeath(app);
      expect(seen).toEqual(['victim execution:failed idle', 'victim task:failed stopped', 'sibling task:failed stopped']);
      expect(settled).toMatchObject({ rejected: `fleetcron background daemon (pid ${daemon}) was killed by ${signal}`, code: 'ERR_FLEETCRON_DAEMON_EXIT' });
      for (const event of failed) expect(event).toMatchObject({ code: 'ERR_FLEETCRON_DAEMON_EXIT', signal });
      expect(after).toMatchObject({ victim: 'stopped', sibling: 'stopped', logged: 2 });
      // Started again, the task gets a new daemon.
      expect(reports.find((r) => r.type === 'restarted')).toMatchObject({ status: 'idle', result: 'object' });
      expect(reports.find((r) => r.type === 'run')!.pid).not.toBe(daemon);
      expect(await app.exit()).toEqual({ code: 0, signal: null });
    });
  }

  it('out of heap memory (a task allocating under --max-old-space-size=32): detected the same way, with the cause', async () => {
    const app = start('failures.ts', { SCENARIO: 'daemon-dies', FILE: 'hog.ts', HEAP_MB: '32' });
    const { seen, settled, failed } = await afterDeath(app);
    const daemon = app.of('hog-start')[0]!.pid;
    expect(seen).toEqual(['victim execution:failed idle', 'victim task:failed stopped', 'sibling task:failed stopped']);
    expect(settled.rejected).toBe(`fleetcron background daemon (pid ${daemon}) was killed by SIGABRT (a fatal V8 error, such as running out of heap memory; see its stderr)`);
    for (const event of failed) expect(event).toMatchObject({ signal: 'SIGABRT' });
    expect(app.output).toContain('JavaScript heap out of memory');
  });

  it('an exception no task file handles kills the daemon; the parent is told which', async () => {
    const app = start('failures.ts', { SCENARIO: 'daemon-dies', FILE: 'stray-throw.mjs' });
    const { seen, settled, failed } = await afterDeath(app);
    // The run had finished; only the tasks fail.
    expect(settled).toEqual({ type: 'execute-settled', result: 'scheduled a stray throw' });
    expect(seen).toEqual(['victim execution:finished idle', 'victim task:failed stopped', 'sibling task:failed stopped']);
    for (const event of failed) expect(event.error).toMatch(/exited with code 1: uncaught RangeError: stray callback failed$/);
  });
});

describe('the parent dying', () => {
  it('kill -9 of the parent: its daemon exits too, no orphan (and SIGINT alone does not end it)', async () => {
    const app = start('failures.ts', { SCENARIO: 'orphan' });
    await app.until(ofType('slow-start'), 20_000, 'the daemon to run the task');
    const daemon = app.of('slow-start')[0]!.pid as number;
    // Ctrl-C signals the whole process group: the daemon leaves that decision to its parent.
    process.kill(daemon, 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hasExited(daemon)).toBe(false);
    process.kill(app.pid, 'SIGKILL');
    await app.exit();
    expect(await waitExited(daemon, 5000)).toBe(true);
  });
});

describe('a coordinator that throws synchronously in the parent (node-cron B5)', () => {
  it('skips the fire as coordinator-error when shouldRun throws, runs when onComplete throws, and the parent lives on', async () => {
    const app = start('failures.ts', { SCENARIO: 'throwing-coordinators' });
    await app.until(ofType('end'), 20_000, 'three runs');
    const skips = app.of('event').filter((r) => r.label === 'skipper' && r.event === 'execution:skipped');
    expect(skips.length).toBeGreaterThanOrEqual(2);
    expect(new Set(skips.map((r) => r.reason))).toEqual(new Set(['coordinator-error']));
    expect(app.of('event').filter((r) => r.label === 'skipper' && r.event === 'execution:finished')).toEqual([]);
    // One logged error per outage, not per fire, each carrying the cause from the parent's coordinator: the
    // parent's authority says its upstream failed, the daemon's task that its elections did.
    const errors = app.of('alive')[0]!.errors as string[];
    const failedElections = errors.filter((e) => / was not run: .*shouldRun exploded/.test(e));
    expect(failedElections.map((e) => e.split(':')[0])).toEqual(['fleetcron', 'task "skipper"']);
    const failedCompletions = errors.filter((e) => / was not completed: .*onComplete exploded/.test(e));
    expect(failedCompletions).toHaveLength(1);
    expect(await app.exit()).toEqual({ code: 0, signal: null });
  });
});
