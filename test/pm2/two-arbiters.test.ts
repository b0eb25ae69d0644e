import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { arbiterApp, arbiterServing, demoApp, demoFires, demoLines, logText } from './helpers.js';

const INSTANCES = 3;
const FIRST = 'fleetcron-arbiter';
const SECOND = 'fleetcron-arbiter-2';

let pm2: Pm2Harness;

beforeAll(async () => {
  pm2 = await startPm2();
  // Not restarted by PM2 once killed, so that the takeover by the second arbiter is what the test sees.
  await pm2.start([{ ...arbiterApp({}, FIRST), autorestart: false }]);
  await arbiterServing(pm2, 1, FIRST);
  await pm2.start([arbiterApp({}, SECOND)]);
  await pm2.waitFor(() => pm2.lines.some((l) => l.app === SECOND && l.text.includes('stands by')), 15_000, 'the second arbiter to stand by');
  await pm2.start([demoApp(INSTANCES)]);
}, 45_000);

afterAll(() => pm2?.teardown(), 30_000);

describe('PM2: a second arbiter on the same daemon (instances: 2, or two apps)', () => {
  it('stands by instead of electing a second winner, and takes over when the serving one is killed', async () => {
    onTestFailed(() => console.log(logText(pm2)));
    const { fires, settled, complete, elected } = demoFires(demoLines(pm2), INSTANCES);
    const first = (await pm2.list()).find((p) => p.name === FIRST)!;
    const [warning] = pm2.lines.filter((l) => l.app === SECOND && l.text.includes('stands by'));
    expect(warning?.text).toContain(`another fleetcron arbiter (pid ${first.pid}, PM2 process ${first.pm_id}) already serves`);

    // Two arbiters hear every request on the bus; only one answers, so each fire still has one winner.
    const steady = await pm2.waitFor(() => {
      const run = settled();
      return run.length >= 5 && run;
    }, 25_000, '5 elected fires');
    expect(steady.filter((f) => !elected(f))).toEqual([]);
    expect(pm2.lines.filter((l) => l.app === SECOND && l.text.includes('serving elections'))).toEqual([]);

    const beforeKill = fires().at(-1)!.slot;
    process.kill(first.pid, 'SIGKILL');
    await arbiterServing(pm2, 1, SECOND);
    const resumed = await pm2.waitFor(() => {
      const run = settled(beforeKill);
      return run.length >= 3 && run;
    }, 25_000, 'the second arbiter to elect');
    expect(resumed.filter((f) => !elected(f))).toEqual([]);

    const all = fires();
    expect(all.filter((f) => f.slot >= steady[0]!.slot && f.slot <= resumed.at(-1)!.slot && !complete(f))).toEqual([]);
    expect(all.filter((f) => f.ran.length > 1)).toEqual([]);
  }, 60_000);
});
