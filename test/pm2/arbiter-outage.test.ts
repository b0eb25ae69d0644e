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
  it('the fires while it is down are reported as coordinator-error, logged once per cause and counted at the end; every fire planned after it serves again runs once', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    const { fires, settled, elected, gap, complete } = heartbeats(pm2, APP, INSTANCES);

    // 1. Elections work: one fire run by one instance, the others not elected.
    const [before] = await pm2.waitFor(() => settled().length >= 1 && settled(), 20_000, 'a first fire decided by the 3 instances');
    expect(elected(before!)).toBe(true);

    // 2. Stop the arbiter right after that fire, and keep it down across three fires: each instance's election
    // request for the first one times out (6 s) before the arbiter comes back, so the instances take it for down.
    // (The old client then checked the arbiter again only when a fire came, and failed that fire at once: the first
    // fire after the arbiter came back was skipped as coordinator-error on every instance.)
    await pm2Cli(pm2, 'stop', ARBITER);
    expect((await pm2.list()).find((p) => p.name === ARBITER)?.status).toBe('stopped');
    const missed = await pm2.waitFor(() => {
      const gaps = fires().filter((f) => f.slot > before!.slot && gap(f));
      return gaps.length >= 3 && gaps;
    }, 25_000, 'three fires skipped as coordinator-error while the arbiter is down');
    // Reported, not silently lost: every instance skipped them as coordinator-error; nobody ran them.
    expect(fires().filter((f) => f.slot > before!.slot && f.slot <= missed[2]!.slot && !gap(f))).toEqual([]);

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

    // 4. Each instance's log says so once, not once per fire: a line per cause (no stack trace), and one line when
    // the arbiter answers again, with the number of fires skipped meanwhile.
    const instances = new Set(pm2.lines.filter((l) => l.app === APP).map((l) => l.pmId));
    expect(instances.size).toBe(INSTANCES);
    for (const pmId of instances) {
      const lines = pm2.lines.filter((l) => l.app === APP && l.pmId === pmId).map((l) => l.text);
      const causes = lines.flatMap((l) => {
        const [, fire, cause] = /task "heartbeat": fire (heartbeat:\S+) was not run: its coordinator failed: (.*); fires are skipped/.exec(l) ?? [];
        return fire ? [cause!.split(fire).join('…')] : [];
      });
      expect(causes.length, `instance ${pmId}`).toBeGreaterThanOrEqual(1);
      expect(new Set(causes).size, `instance ${pmId}: each cause once`).toBe(causes.length);
      expect(lines.filter((l) => /^\s+at /.test(l)), `instance ${pmId}: no stack trace`).toEqual([]);
      const skippedHere = lines.filter((l) => /^heartbeat \S+ skipped by .* \(coordinator-error\)$/.test(l)).length;
      // Three fires or more skipped, and an absent arbiter shows in two ways at most: the request times out, or
      // the client already knows nobody answers.
      expect(causes.length, `instance ${pmId}: fewer lines than fires skipped`).toBeLessThan(skippedHere);
      const counted = lines.flatMap((l) => /task "heartbeat": its coordinator answers again; (\d+) fire\(s\) were skipped/.exec(l)?.[1] ?? []).map(Number);
      expect(counted.reduce((a, b) => a + b, 0), `instance ${pmId}: the fires counted in its "answers again" lines`).toBe(skippedHere);
    }
  }, 60_000);
});
