import { describe, expect, it, onTestFailed } from 'vitest';
import { fixture, logText, reportsOf, tsApp, usePm2WithArbiter } from './helpers.js';

interface Outcome {
  kind: 'run' | 'skip' | 'started';
  slot: string;
  pmId: number;
  pid: number;
  reason?: string;
  daemon?: { pid: number; ppid: number; marker?: string };
}

const INSTANCES = 3;
const harness = usePm2WithArbiter();

describe('PM2: background tasks, elected daemon → instance → arbiter', () => {
  it('3 cluster instances each own a daemon running the same task: every fire runs once, in a daemon of the elected instance', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([tsApp({ name: 'backups', script: fixture('background-app.mts'), exec_mode: 'cluster', instances: INSTANCES })]);
    const outcomes = () => reportsOf<Outcome>(pm2, 'backups');
    const decided = (slot: string) => outcomes().filter((o) => o.slot === slot && o.kind !== 'started');
    // Fires after the last instance started, each decided by all three instances.
    const fires = await pm2.waitFor(() => {
      const starts = outcomes().filter((o) => o.kind === 'started');
      if (starts.length < INSTANCES) return false;
      const slots = [...new Set(outcomes().filter((o) => o.kind === 'run').map((o) => o.slot))].sort();
      const complete = slots.slice(1).filter((slot) => decided(slot).length === INSTANCES);
      return complete.length >= 5 && complete;
    }, 30_000, '5 fires decided by the 3 instances');

    const instances = new Map(outcomes().filter((o) => o.kind === 'started').map((o) => [o.pmId, o.pid]));
    for (const slot of fires) {
      const runs = decided(slot).filter((o) => o.kind === 'run');
      expect(runs, slot).toHaveLength(1);
      expect(decided(slot).filter((o) => o.kind === 'skip').map((o) => o.reason), slot).toEqual(['not-elected', 'not-elected']);
      const [run] = runs as [Outcome];
      expect(run.daemon?.ppid).toBe(instances.get(run.pmId));
      expect(run.daemon?.marker).toBe(`parent:${run.pid}`);
    }
    const runs = outcomes().filter((o) => o.kind === 'run');
    expect(runs.length).toBe(new Set(runs.map((o) => o.slot)).size);
  }, 45_000);
});
