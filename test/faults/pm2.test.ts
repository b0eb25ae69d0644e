// The fault-injection matrix under PM2: a private PM2 daemon, an arbiter app of our own calling servePm2({ logger })
// and the worker app in cluster mode with 3 instances. The test process runs the fault plan: it hears the instances
// on PM2's bus and arms them with pm2.sendDataToProcessId; records go to files (see test/fixtures/faults/).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Orchestrator } from '../fixtures/faults/orchestrator.js';
import { CASES, CONTROL, DELAY_MS, readRecords, recorder, type Signal } from '../fixtures/faults/shared.js';
import { killLeftovers } from '../support/leftovers.js';
import { REPO_ROOT, startPm2, waitFor } from '../support/pm2.js';
import { TS_NODE_ARGS } from '../support/processes.js';
import { account, coverage, details } from './matrix.js';

const INSTANCES = 3;
const fixture = (name: string) => join(REPO_ROOT, 'test/fixtures/faults', name);

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error('cleanup failed:', error);
    }
  }
});

describe('fault-injection matrix, PM2', () => {
  it(`accounts for every fire of ${INSTANCES} cluster instances under SIGKILL, SIGSTOP, stop() and shutdown() at each phase`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fc-faults-'));
    cleanups.push(() => (process.env.FAULTS_KEEP ? console.log(`records kept in ${dir}`) : rmSync(dir, { recursive: true, force: true })));
    const pm2 = await startPm2();
    const orchestrator = new Orchestrator({
      dir,
      send: ({ pmId }, arm) => (pmId === undefined ? undefined : pm2.send(pmId, { topic: CONTROL, data: arm })),
      record: recorder(dir, 'orchestrator'),
      rounds: Number(process.env.FAULT_ROUNDS ?? 2),
      // One other instance up is enough: with three, waiting for both would leave a fault every 5 s (a PM2 restart takes ~4 s here).
      minOthers: 1,
      delayMs: DELAY_MS,
      budgetMs: Number(process.env.FAULT_BUDGET_MS ?? 50_000),
    });
    let cursor = 0;
    const pump = setInterval(() => {
      for (; cursor < pm2.events.length; cursor++) {
        const { event, packet } = pm2.events[cursor]!;
        if (event === CONTROL && packet.data) orchestrator.onSignal(packet.data as Signal);
      }
    }, 20);
    cleanups.push(async () => {
      clearInterval(pump);
      orchestrator.close();
      await pm2.teardown();
      // Instances outlive the daemon only when left SIGSTOPped; the marker is this run's REPORT_DIR.
      killLeftovers(readRecords(dir).map((r) => r.pid), dir);
    });

    const env = { REPORT_DIR: dir };
    await pm2.start([{ name: 'faults-arbiter', script: fixture('pm2-arbiter.mts'), exec_mode: 'fork', instances: 1, node_args: TS_NODE_ARGS, env }]);
    await waitFor(() => readRecords(dir).some((r) => r.file === 'arbiter' && r.type === 'serving'), 20_000, 'the arbiter to serve');
    await pm2.start([{ name: 'faults-app', script: fixture('pm2-worker.mts'), exec_mode: 'cluster', instances: INSTANCES, node_args: TS_NODE_ARGS, env }]);
    await waitFor(() => orchestrator.readyCount() >= INSTANCES, 30_000, `${INSTANCES} instances elected through the arbiter`).catch((error: Error) => {
      // Say why: what the instances were told, and what the arbiter logged.
      const records = readRecords(dir);
      const told = [...new Set(records.filter((r) => r.type === 'skipped').map((r) => `${String(r.reason)}: ${String(r.error).slice(0, 300)}`))].slice(0, 3);
      const logged = records.filter((r) => r.file === 'authority').map((r) => `${String(r.level)}: ${String(r.text).slice(0, 300)}`).slice(0, 5);
      throw new Error(`${error.message}\ninstances were told:\n  ${told.join('\n  ') || '(nothing)'}\nthe arbiter logged:\n  ${logged.join('\n  ') || '(nothing)'}`);
    });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await orchestrator.run();
    // The last faulted fire is two slots before the window's end; a SIGSTOPped victim resumes 2.5 s after it.
    await new Promise((resolve) => setTimeout(resolve, 4000));

    const result = account(readRecords(dir), 'PM2');
    console.log(`${result.table}\n\n${details(result)}${result.observations.length ? `\n\nobservations:\n${result.observations.join('\n')}` : ''}`);
    expect(result.planned.length).toBeGreaterThanOrEqual(30);
    // Every case struck at least once (one that needs its victim to win comes round again until it does).
    expect([...coverage(result.cases).struck].sort()).toEqual(CASES.map((c) => c.id).sort());
    expect(result.violations).toEqual([]);
  }, 120_000);
});
