import { describe, expect, it, onTestFailed } from 'vitest';
import { heartbeats } from './fire-log.js';
import { fixture, logText, tsApp, usePm2WithArbiter } from './helpers.js';

const APP = 'cluster-in-fork';
const INSTANCES = 2;
const WORKERS = 2;
const FIRES = 8;

const harness = usePm2WithArbiter();

describe('PM2: a node:cluster app in fork mode, instances: 2 (each instance a primary serving 2 workers), the arbiter present', () => {
  it('asks the arbiter above each primary: every fire runs once across both instances\' workers', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([
      tsApp({ name: APP, script: fixture('cluster-in-fork-app.mts'), exec_mode: 'fork', instances: INSTANCES, env: { WORKERS: String(WORKERS) } }),
    ]);
    const { fires, settled, elected } = heartbeats(pm2, APP, INSTANCES * WORKERS);

    // Before the fix each primary elected host-locally, so every fire ran once per instance (2 runs each).
    const run = await pm2.waitFor(() => {
      const settledFires = settled();
      return settledFires.length >= FIRES && settledFires;
    }, 40_000, `${FIRES} fires decided by all ${INSTANCES * WORKERS} workers`);
    expect(run.filter((f) => !elected(f))).toEqual([]);
    expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
    // Both instances' workers took part in every fire.
    for (const fire of run) {
      const instances = new Set([...fire.ran, ...fire.skipped.map((s) => s.who)].map((who) => who.split('/')[0]));
      expect(instances.size, fire.slot).toBe(INSTANCES);
    }

    // Each primary says where its elections go: on to the authority above it, the arbiter (hop by hop).
    const hops = pm2.lines.filter((l) => l.app === APP && l.text.includes('serveCluster(): elections go on to the authority above this process'));
    expect(new Set(hops.map((l) => l.pmId)).size).toBe(INSTANCES);
  }, 60_000);
});
