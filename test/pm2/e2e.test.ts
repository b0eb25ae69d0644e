import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { isAlive, REPO_ROOT, startPm2, type Pm2Harness } from '../support/pm2.js';
import { ARBITER, arbiterApp, arbiterServing, logText, tsApp } from './helpers.js';

const APP = 'fleetcron-demo';
const INSTANCES = 3;
const LINE = /^heartbeat (\S+) (ran|skipped) on pm_id (\d+)(?: \(([\w-]+)\))?$/;

interface Fire {
  slot: string;
  ran: number[];
  skipped: { pmId: number; reason: string }[];
}

let pm2: Pm2Harness;

beforeAll(async () => {
  pm2 = await startPm2();
  await pm2.start([arbiterApp()]);
  await arbiterServing(pm2);
  // The demo app itself, with `fleetcron` resolved to the sources.
  await pm2.start([tsApp({ name: APP, script: join(REPO_ROOT, 'examples/pm2/app.js'), cwd: REPO_ROOT, exec_mode: 'cluster', instances: INSTANCES })]);
}, 30_000);

afterAll(() => pm2?.teardown(), 30_000);

/** Every fire the demo instances logged, by slot, in slot order. */
function fires(): Fire[] {
  const bySlot = new Map<string, Fire>();
  for (const line of pm2.lines) {
    const match = line.app === APP ? LINE.exec(line.text) : null;
    if (!match) continue;
    const [, slot, outcome, pmId, reason] = match as unknown as [string, string, string, string, string | undefined];
    const fire = bySlot.get(slot) ?? { slot, ran: [], skipped: [] };
    bySlot.set(slot, fire);
    if (outcome === 'ran') fire.ran.push(Number(pmId));
    else fire.skipped.push({ pmId: Number(pmId), reason: reason ?? '?' });
  }
  return [...bySlot.values()].sort((a, b) => a.slot.localeCompare(b.slot));
}

const complete = (fire: Fire) => fire.ran.length + fire.skipped.length === INSTANCES;
const elected = (fire: Fire) => complete(fire) && fire.ran.length === 1 && fire.skipped.every((s) => s.reason === 'not-elected');
const gap = (fire: Fire) => complete(fire) && fire.ran.length === 0 && fire.skipped.every((s) => s.reason === 'coordinator-error');

/** The fires from the first elected one on, up to the last one every instance has reported. */
function settled(since = ''): Fire[] {
  const all = fires().filter((f) => f.slot > since);
  const first = all.findIndex(elected);
  if (first < 0) return [];
  const last = all.findLastIndex(complete);
  return all.slice(first, last + 1);
}

describe('PM2 end to end: the demo app (3 cluster instances) and the arbiter', () => {
  it('runs each fire once, reports the arbiter restart gap as coordinator-error, and recovers by itself', async () => {
    onTestFailed(() => console.log(logText(pm2)));

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
