import { describe, expect, it } from 'vitest';
import type { Report } from '../support/processes.js';
import { backgroundFixtures, ofType, waitExited } from './support.js';

const start = backgroundFixtures();

/** Runs a scenario of lifecycle.ts to its end and checks the process then exits on its own (nothing left behind). */
async function scenario(name: string, env: NodeJS.ProcessEnv = {}): Promise<Report[]> {
  const app = start('lifecycle.ts', { SCENARIO: name, ...env });
  await app.until(ofType('end'), 25_000, `scenario ${name} to end`);
  const exit = await Promise.race([app.exit(), new Promise((resolve) => setTimeout(() => resolve('still running'), 5000))]);
  expect(exit, `${name}: the process exits by itself`).toEqual({ code: 0, signal: null });
  return app.reports;
}

const events = (reports: Report[]) => reports.filter((r) => r.type === 'event');

describe('a background task through its lifecycle', () => {
  it('emits node-cron events with Date contexts and this task as context.task, and moves through its states', async () => {
    const reports = await scenario('lifecycle');
    expect(reports[0]).toEqual({ type: 'registered', count: 1, status: 'stopped' });
    const seen = events(reports).map((e) => `${e.event} ${e.status}${e.reason ? ` ${e.reason}` : ''}`);
    expect(seen).toEqual([
      'task:started idle',
      'execution:started running scheduled',
      'execution:finished idle scheduled',
      'execution:started running scheduled',
      'execution:finished idle scheduled',
      'execution:started idle invoked',
      'execution:finished idle invoked',
      'task:stopped stopped',
      'task:started idle',
      'execution:started running scheduled',
      'execution:finished idle scheduled',
      'task:stopped destroyed',
      'task:destroyed destroyed',
    ]);
    for (const event of events(reports)) expect(event).toMatchObject({ dates: true, sameTask: true });
    // The same execution from started to finished.
    const runs = events(reports).filter((e) => e.executionId);
    for (let i = 0; i < runs.length; i += 2) expect(runs[i]!.executionId).toBe(runs[i + 1]!.executionId);
    expect(reports.find((r) => r.type === 'executed')).toEqual({ type: 'executed', at: true, map: true, big: 'bigint', hasMissing: true, last: true, next: true });
    expect(reports.find((r) => r.type === 'stopped')).toEqual({ type: 'stopped', status: 'stopped', next: null });
    expect(reports.find((r) => r.type === 'destroyed')).toEqual({ type: 'destroyed', status: 'destroyed', count: 0 });
    // The task file ran in a daemon whose parent is the app, marked as its authority.
    const run = reports.find((r) => r.type === 'run')!;
    expect(run.marker).toBe(`parent:${run.ppid}`);
    expect(run.name).toBe('echo');
  });

  it('carries errors whole: class name, message, stack, code, other own properties and the cause', async () => {
    const error = (await scenario('errors')).find((r) => r.type === 'error')!;
    expect(error).toMatchObject({
      name: 'BackupError',
      message: 'disk full',
      code: 'E_BACKUP',
      isError: true,
      attempts: 3,
      when: true,
      cause: { isTypeError: true, message: 'inner', code: 'E_INNER' },
      sameInEvent: true,
      lastRun: 'disk full',
      logged: ['disk full'],
    });
    expect(error.stack).toMatch(/^BackupError: disk full\n\s+at .*fails\.ts:\d+/);
  });

  it('execute() rejects after executeTimeout while the run goes on and is still reported', async () => {
    const reports = await scenario('execute-timeout');
    const order = reports.filter((r) => ['slow-start', 'timed-out', 'slow-end'].includes(r.type) || r.event === 'execution:finished').map((r) => String(r.event ?? r.type));
    expect(order).toEqual(['slow-start', 'timed-out', 'slow-end', 'execution:finished']);
    expect(reports.find((r) => r.type === 'timed-out')!.message).toBe('Execution timeout exceeded');
  });

  it('a missing file, an import that throws, no task export, a slow import: start() rejects naming the file; schedule() emits task:failed and keeps nothing', async () => {
    const reports = await scenario('start-failures');
    const dir = `${process.cwd()}/test/fixtures/background/tasks`;
    const messages = [
      `fleetcron: background task file ${dir}/missing.mjs does not exist`,
      `fleetcron: background task file ${dir}/throws-on-import.mjs failed to load: boom at import`,
      `fleetcron: background task file ${dir}/no-export.mjs exports no task function; export a function named \`task\` (or a default function)`,
      `Start operation timed out after 300ms. The background task file ${dir}/slow-import.mjs may have failed to load or taken too long to import; ` +
        'verify it runs on its own and consider increasing the `startTimeout` option.',
    ];
    // createTask(): the caller has the rejection; the task stays registered and stopped (it may be started again).
    const failed = reports.filter((r) => r.type === 'start-failed');
    expect(failed.map((r) => r.message)).toEqual(messages);
    for (const r of failed) expect(r).toMatchObject({ status: 'stopped', registered: true });
    // Its destroy() is the only event it emitted.
    expect(events(reports).filter((e) => e.label === 'created').map((e) => e.event)).toEqual(Array(4).fill('task:destroyed'));
    // schedule(): task:failed with the error, then task:destroyed, for each file in turn; logged; nothing registered.
    expect(events(reports).filter((e) => e.label === 'scheduled').map((e) => [e.event, e.status, e.error])).toEqual(
      messages.flatMap((message) => [['task:failed', 'destroyed', message], ['task:destroyed', 'destroyed', undefined]]),
    );
    const scheduled = reports.filter((x) => x.type === 'schedule-failed');
    expect(scheduled.map((r) => r.logged)).toEqual(messages.map((message) => [`Failed to start scheduled task: ${message}`]));
    for (const r of scheduled) expect(r).toMatchObject({ registered: 0, status: 'destroyed' });
  });

  it('takes absolute paths, file URLs (string or URL), paths relative to the calling file, TS, ESM default and CommonJS exports', async () => {
    const reports = await scenario('paths');
    expect(reports.filter((r) => r.type === 'path').map((r) => `${r.label}: ${r.result}`)).toEqual([
      'absolute: from a default export',
      'file URL string: from CommonJS',
      'URL object: object',
      'relative: from a default export',
      'solvePath: from CommonJS',
    ]);
    const solved = reports.find((r) => r.type === 'solved')!;
    expect(solved.url).toBe(solved.expected);
  });

  it('sends a result the channel cannot clone as a JSON copy, and says so once', async () => {
    const result = (await scenario('unclonable')).find((r) => r.type === 'result')!;
    expect(result.result).toEqual({ total: 3 });
    expect(result.warned).toEqual([expect.stringContaining('cannot be sent from the daemon')]);
  });

  it('stop() and destroy() of a task never started emit their events, each with a context (node-cron B7)', async () => {
    const reports = await scenario('never-started');
    expect(events(reports).map((e) => [e.event, e.dates, e.sameTask])).toEqual([
      ['task:stopped', true, true],
      ['task:destroyed', true, true],
    ]);
    expect(reports.find((r) => r.type === 'done')).toMatchObject({ status: 'destroyed', registered: 0 });
  });

  it('counts maxExecutions across a stop and a new daemon, then destroys the task', async () => {
    const reports = await scenario('max-executions');
    expect(reports.find((r) => r.type === 'runs-left')!.left).toBe(1);
    expect(reports.filter((r) => r.type === 'run')).toHaveLength(3);
    expect(events(reports).map((e) => e.event).slice(-4)).toEqual(['execution:finished', 'execution:maxReached', 'task:stopped', 'task:destroyed']);
    expect(reports.find((r) => r.type === 'maxed')).toMatchObject({ status: 'destroyed', left: 0, registered: 0 });
  });

  it('forwards missed fires from a daemon whose event loop is blocked, and the parent warns about them', async () => {
    const warned = (await scenario('missed')).find((r) => r.type === 'warned')!;
    expect(warned.missed).toBeGreaterThanOrEqual(1);
  });

  it("an unref'ed task lets the process exit once its execute() is answered, and its daemon exits with it", async () => {
    const reports = await scenario('unref');
    expect(reports.find((r) => r.type === 'executed')).toEqual({ type: 'executed', result: 'object' });
    const daemon = reports.find((r) => r.type === 'run')!.pid as number;
    expect(await waitExited(daemon, 5000)).toBe(true);
  });

  it('shutdown() lets a run in progress finish, then leaves no daemon and no timer behind', async () => {
    const reports = await scenario('shutdown');
    expect(reports.find((r) => r.type === 'shut-down')).toEqual({ type: 'shut-down', done: true, daemonAlive: false, status: 'destroyed' });
  });
});
