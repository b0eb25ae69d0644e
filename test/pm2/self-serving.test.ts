import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { heartbeats } from './fire-log.js';
import { fixture, logText, tsApp } from './helpers.js';

const APP = 'self-serving';
const INSTANCES = 2;
const FIRES = 8;

// No shipped arbiter here: the app serves the elections itself.
let pm2: Pm2Harness;
beforeAll(async () => {
  pm2 = await startPm2();
}, 30_000);
afterAll(() => pm2?.teardown(), 30_000);

describe("PM2: an app serving elections itself (its own servePm2()), fork mode, instances: 2, each scheduling the task in-process", () => {
  it('one instance serves, the other stands by and elects over the bus, in one scope: every fire runs once across the two', async () => {
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([tsApp({ name: APP, script: fixture('self-serving-app.mts'), exec_mode: 'fork', instances: INSTANCES })]);
    const appLines = () => pm2.lines.filter((l) => l.app === APP);
    const serving = () => appLines().filter((l) => l.text.includes('self-serving: ') && l.text.includes(' serves elections'));
    const standing = () => appLines().filter((l) => l.text.includes('servePm2(): another fleetcron arbiter') && l.text.includes('stands by'));
    await pm2.waitFor(() => serving().length + standing().length >= INSTANCES, 20_000, 'one instance to serve and the other to stand by');
    expect(serving()).toHaveLength(1);
    expect(standing()).toHaveLength(1);
    expect(standing()[0]!.pmId).not.toBe(serving()[0]!.pmId);

    // Before the fix the serving instance's own tasks elected with no scope and the standby's came scoped by the
    // app's name, so each fire had two winners: both instances ran every fire.
    const { fires, settled, elected } = heartbeats(pm2, APP, INSTANCES);
    const run = await pm2.waitFor(() => {
      const settledFires = settled();
      return settledFires.length >= FIRES && settledFires;
    }, 30_000, `${FIRES} fires decided by both instances`);
    expect(run.filter((f) => !elected(f))).toEqual([]);
    expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
    // Still both serving and standing by: nobody took over meanwhile.
    expect(serving()).toHaveLength(1);
  }, 60_000);
});
