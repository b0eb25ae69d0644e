import { describe, expect, it, onTestFailed } from 'vitest';
import { DEMO_APP, demoApp, demoFires, demoLines, logText, usePm2WithArbiter } from './helpers.js';

const INSTANCES = 3;

const harness = usePm2WithArbiter([demoApp(INSTANCES)]);

describe('PM2: a zero-downtime reload of the app (pm2 reload) while it fires every second', () => {
  it('new processes under the same pm_ids take over; no fire runs twice and elections go on', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    const { fires, settled, complete, elected } = demoFires(demoLines(pm2), INSTANCES);
    const steady = await pm2.waitFor(() => {
      const run = settled();
      return run.length >= 3 && run;
    }, 25_000, '3 elected fires');
    expect(steady.filter((f) => !elected(f))).toEqual([]);

    const before = new Map((await pm2.list()).filter((p) => p.name === DEMO_APP).map((p) => [p.pm_id, p.pid]));
    await pm2.reload(DEMO_APP);
    const after = (await pm2.list()).filter((p) => p.name === DEMO_APP);
    // Same pm_ids, every one a new process: request ids must not collide with the old incarnations'.
    expect(after.map((p) => p.pm_id).sort()).toEqual([...before.keys()].sort());
    for (const p of after) expect(p.pid).not.toBe(before.get(p.pm_id));

    // PM2 runs each replaced process as `_old_<pm_id>` beside its replacement for a while; it still fires, and the
    // arbiter answers it under that id (it used to drop its requests, failing its fires as coordinator-error). A fire in
    // the last milliseconds of its shutdown may still go unanswered: PM2 forwards nothing to a stopping process.
    const old = pm2.lines.filter((l) => String(l.pmId).startsWith('_old_') && l.app === DEMO_APP);
    expect(old.filter((l) => / ran on | \(not-elected\)$/.test(l.text)).length, old.map((l) => l.text).join('\n')).toBeGreaterThan(0);
    const reloaded = Date.now();
    const resumed = await pm2.waitFor(() => {
      const run = fires().filter((f) => Date.parse(f.slot) > reloaded + 2000 && complete(f));
      return run.length >= 3 && run;
    }, 25_000, '3 fires after the reload, each answered by the 3 new processes');
    expect(resumed.filter((f) => !elected(f))).toEqual([]);
    expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
  }, 60_000);
});
