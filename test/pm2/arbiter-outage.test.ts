import { describe, expect, it, onTestFailed } from 'vitest';
import { heartbeats, pm2Cli, stampOf } from './fire-log.js';
import { ARBITER, arbiterServing, fixture, logText, tsApp, usePm2WithArbiter } from './helpers.js';

const APP = 'outage';
const INSTANCES = 3;
const PERIOD_MS = 5000;

// Every 5 s, so each fire's election timeout is 2.5 s (half the interval).
const harness = usePm2WithArbiter([
  tsApp({ name: APP, script: fixture('outage-app.mts'), exec_mode: 'cluster', instances: INSTANCES, env: { SCHEDULE: '*/5 * * * * *' } }),
]);

describe('PM2: the arbiter stopped across fires (pm2 stop), then started again (pm2 start)', () => {
  it('the fires while it is down are reported as coordinator-error; every fire planned after it serves again runs once', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    const { fires, settled, elected, gap, complete } = heartbeats(pm2, APP, INSTANCES);

    // 1. Elections work: one fire run by one instance, the others not elected.
    const [before] = await pm2.waitFor(() => settled().length >= 1 && settled(), 20_000, 'a first fire decided by the 3 instances');
    expect(elected(before!)).toBe(true);

    // 2. Stop the arbiter right after that fire, and keep it down across two fires: each instance's election
    // request for the first one times out (6 s) before the arbiter comes back, so the instances take it for down.
    // (The old client then checked the arbiter again only when a fire came, and failed that fire at once: the first
    // fire after the arbiter came back was skipped as coordinator-error on every instance.)
    await pm2Cli(pm2, 'stop', ARBITER);
    expect((await pm2.list()).find((p) => p.name === ARBITER)?.status).toBe('stopped');
    const missed = await pm2.waitFor(() => {
      const gaps = fires().filter((f) => f.slot > before!.slot && gap(f));
      return gaps.length >= 2 && gaps;
    }, 20_000, 'two fires skipped as coordinator-error while the arbiter is down');
    // Reported, not silently lost: every instance skipped them as coordinator-error; nobody ran them.
    expect(fires().filter((f) => f.slot > before!.slot && f.slot <= missed[1]!.slot && !gap(f))).toEqual([]);

    // 3. Start it again; from its "serving elections" line on, every planned fire runs once.
    await pm2Cli(pm2, 'start', ARBITER);
    await arbiterServing(pm2, 2);
    const back = stampOf(pm2.lines.filter((l) => l.app === ARBITER && l.text.includes('fleetcron-arbiter: serving elections'))[1]!.text);
    const after = await pm2.waitFor(() => {
      const planned = fires().filter((f) => f.slot > back);
      const decided = planned.slice(0, planned.findLastIndex(complete) + 1);
      return decided.length >= 2 && decided;
    }, 25_000, 'two fires planned after the arbiter serves again, decided by the 3 instances');
    expect(after.filter((f) => !elected(f))).toEqual([]);
    // No planned fire is missing from the logs: one every 5 s from the first after the line.
    const first = Math.ceil((Date.parse(back) + 1) / PERIOD_MS) * PERIOD_MS;
    expect(after.map((f) => f.slot)).toEqual(after.map((_, i) => new Date(first + i * PERIOD_MS).toISOString()));
    expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
  }, 60_000);
});
