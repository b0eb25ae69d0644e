import { describe, expect, it, onTestFailed } from 'vitest';
import { isAlive } from '../support/processes.js';
import { ARBITER, arbiterServing, demoApp, demoFires, demoLines, logText, usePm2WithArbiter } from './helpers.js';

const INSTANCES = 3;

const harness = usePm2WithArbiter([demoApp(INSTANCES)]);

describe('PM2 end to end: the demo app (3 cluster instances) and the arbiter', () => {
  it('runs each fire once, reports the arbiter restart gap as coordinator-error, and recovers by itself', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    const { fires, settled, complete, elected, gap } = demoFires(demoLines(pm2), INSTANCES);

    // 1. Steady state: at least 10 consecutive fires, each run by exactly one instance.
    const steady = await pm2.waitFor(() => {
      const run = settled();
      return run.length >= 10 && run;
    }, 25_000, '10 elected fires');
    expect(steady.filter((f) => !elected(f))).toEqual([]);

    // 2. Restart the arbiter mid-run; its replacement starts with an empty claim table. The restart is issued
    // 0.3 s before a fire, so that fire finds no arbiter (the old one stops within ~20 ms, the new one serves
    // ~0.6 s later); a restart between two fires would hide the gap.
    await new Promise((resolve) => setTimeout(resolve, 1700 - (Date.now() % 1000)));
    const beforeRestart = fires().at(-1)!.slot;
    await pm2.restart(ARBITER);
    await arbiterServing(pm2, 2);
    const resumed = await pm2.waitFor(() => {
      const run = settled(beforeRestart);
      return run.length >= 3 && run;
    }, 25_000, 'elections to resume after the arbiter restart');

    const all = fires();
    const window = all.filter((f) => f.slot > beforeRestart && f.slot < resumed[0]!.slot);
    // The fires in the gap are skipped as coordinator-error: reported, not silently lost.
    expect(window.length).toBeGreaterThan(0);
    expect(window.filter(gap).length).toBeGreaterThan(0);
    // From the first elected fire on, every fire has an outcome on every instance, and none ran twice.
    const tracked = all.filter((f) => f.slot >= steady[0]!.slot && f.slot <= resumed.at(-1)!.slot);
    expect(tracked.filter((f) => !complete(f))).toEqual([]);
    expect(all.filter((f) => f.ran.length > 1)).toEqual([]);
    // Once the new arbiter answers, elections work again without anyone's help.
    expect(resumed.filter((f) => !elected(f))).toEqual([]);

    // 3. Teardown leaves no PM2 daemon behind.
    const god = pm2.godPid();
    expect(god).toBeDefined();
    await pm2.teardown();
    expect(isAlive(god!)).toBe(false);
  }, 60_000);
});
