import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { ARBITER, arbiterApp, demoApp, demoFires, demoLines, logText } from './helpers.js';

const INSTANCES = 3;

let pm2: Pm2Harness;

beforeAll(async () => {
  pm2 = await startPm2();
  await pm2.start([{ ...arbiterApp(), exec_mode: 'cluster', instances: 2 }]);
  await pm2.start([demoApp(INSTANCES)]);
}, 45_000);

afterAll(() => pm2?.teardown(), 30_000);

describe('PM2: the arbiter misconfigured in cluster mode (exec_mode: cluster, instances: 2)', () => {
  it('serves from one instance only, the other stands by, both say to run it in fork mode; every fire runs once', async () => {
    onTestFailed(() => console.log(logText(pm2)));
    const arbiterLines = () => pm2.lines.filter((l) => l.app === ARBITER);
    const serving = () => arbiterLines().filter((l) => l.text.includes('fleetcron-arbiter: serving elections'));
    const standing = () => arbiterLines().filter((l) => l.text.includes('stands by'));
    await pm2.waitFor(() => serving().length + standing().length >= 2, 20_000, 'both arbiter instances to serve or stand by');

    const { fires, settled, elected } = demoFires(demoLines(pm2), INSTANCES);
    const steady = await pm2.waitFor(() => {
      const run = settled();
      return run.length >= 6 && run;
    }, 25_000, '6 settled fires');
    expect(steady.filter((f) => !elected(f))).toEqual([]);

    const [server] = serving();
    expect(serving()).toHaveLength(1);
    expect(standing().map((l) => l.pmId)).toEqual([(await pm2.list()).find((p) => p.name === ARBITER && p.pm_id !== server!.pmId)!.pm_id]);
    const advice = arbiterLines().filter((l) => l.text.includes("exec_mode: 'fork', instances: 1"));
    expect(new Set(advice.map((l) => l.pmId)).size).toBe(2);

    // The lock is the instance's own: when it dies, it is free again, and one process takes it over — the other
    // instance, or PM2's restart of the killed one, whichever tries first (both are seen here); the other stands by.
    const killed = (await pm2.list()).find((p) => p.pm_id === server!.pmId)!;
    const beforeKill = fires().at(-1)!.slot;
    const servedBefore = serving().length;
    process.kill(killed.pid, 'SIGKILL');
    const takeovers = () => serving().slice(servedBefore).filter((l) => !l.text.includes(`[PID: ${killed.pid}]`));
    await pm2.waitFor(() => takeovers().length > 0, 15_000, 'another process to take over');
    const resumed = await pm2.waitFor(() => {
      const run = settled(beforeKill);
      return run.length >= 3 && run;
    }, 25_000, '3 settled fires after the takeover');
    expect(resumed.filter((f) => !elected(f))).toEqual([]);
    expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
    expect(takeovers(), 'one process serves after the kill').toHaveLength(1);
  }, 90_000);
});
