import { describe, expect, it } from 'vitest';
import { runsPerSlot } from '../support/processes.js';
import { backgroundFixtures, ofType, waitExited } from './support.js';

const start = backgroundFixtures();

describe('distributed background tasks in node:cluster workers, elected daemon → worker → primary', () => {
  it('three workers each own a daemon running the same task: every fire runs exactly once on the host', async () => {
    const host = start('cluster-host.ts', { WORKERS: '3' });
    await host.until((r) => r.filter((x) => x.type === 'worker-started').length === 3, 20_000, 'three background tasks started');
    const startedAt = host.reports.length;
    await host.until((r) => new Set(r.slice(startedAt).filter((x) => x.type === 'run').map((x) => x.slot)).size >= 6, 20_000, '6 fires');
    const counts = runsPerSlot(host.reports);
    for (const [slot, n] of counts) expect(n, slot).toBe(1);

    const workers = new Set(host.of('worker-started').map((r) => r.pid));
    const runs = host.of('run');
    // Each run happened in a daemon whose parent is a worker, and that parent was its marked authority.
    for (const run of runs) {
      expect(workers.has(run.ppid)).toBe(true);
      expect(run.marker).toBe(`parent:${run.ppid}`);
    }
    // Once all three were up, each fire was one run and two not-elected skips (the newest fire may be incomplete).
    const slots = [...new Set(host.reports.slice(startedAt).filter((x) => x.type === 'run').map((x) => x.slot as string))].sort().slice(1, -1);
    for (const slot of slots) {
      expect(host.of('skip').filter((s) => s.slot === slot).map((s) => s.reason), slot).toEqual(['not-elected', 'not-elected']);
    }

    const daemons = [...new Set(runs.map((r) => r.pid as number))];
    await host.stop();
    for (const pid of daemons) expect(await waitExited(pid, 5000), `daemon ${pid} exited with its worker`).toBe(true);
  });
});

describe('distributed background tasks in a standalone process, elected by its own coordinator', () => {
  for (const scenario of ['per-task', 'global']) {
    it(`${scenario === 'per-task' ? 'a per-task runCoordinator' : 'setRunCoordinator()'}: three tasks of one name run each fire once`, async () => {
      const app = start('coordination.ts', { SCENARIO: scenario });
      await app.until(ofType('end'), 25_000, 'five decided fires');
      const counts = runsPerSlot(app.reports);
      expect(counts.size).toBeGreaterThanOrEqual(5);
      for (const [slot, n] of counts) expect(n, slot).toBe(1);
      // The newest fire may have been decided for its winner only when shutdown() stopped the other two tasks.
      for (const slot of [...counts.keys()].sort().slice(0, -1)) expect(app.of('skip').filter((s) => s.slot === slot)).toHaveLength(2);
      expect(await app.exit()).toEqual({ code: 0, signal: null });
    });
  }

  it('no coordinator and NODE_CRON_RUN unset: schedule() throws in the parent, nothing is registered', async () => {
    const app = start('coordination.ts', { SCENARIO: 'env-unset' });
    await app.until(ofType('end'), 15_000, 'the scenario');
    expect(app.of('threw')[0]).toMatchObject({ message: expect.stringContaining('needs NODE_CRON_RUN'), registered: 0 });
    expect(app.of('scheduled')).toEqual([]);
  });

  it("NODE_CRON_RUN=false in the parent: the daemon's fires are skipped as not elected", async () => {
    const app = start('coordination.ts', { SCENARIO: 'env-false' });
    await app.until(ofType('end'), 15_000, 'two skipped fires');
    expect(app.of('skip').map((s) => s.reason)).toEqual(['not-elected', 'not-elected']);
    expect(app.of('run')).toEqual([]);
  });
});

describe('a trigger of a distributed background task', () => {
  it('runs it once, in one of the daemons of the copies of the task, at the slot the trigger recorded', async () => {
    const app = start('trigger.ts');
    await app.until(ofType('end'), 25_000, 'the trigger and shutdown');
    const [triggered] = app.of('triggered');
    expect(app.of('run').map((run) => run.slot)).toEqual([triggered!.slot]);
    expect(app.of('skip'), 'the copy that lost the trigger says nothing').toEqual([]);
    const [records] = app.of('records');
    expect((records!.records as Array<{ state: string }>).map((record) => record.state)).toEqual(['succeeded']);
  });
});
