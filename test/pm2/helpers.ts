import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT, startPm2, type Pm2App, type Pm2Harness } from '../support/pm2.js';
import { TS_NODE_ARGS } from '../support/processes.js';

export const fixture = (name: string) => join(REPO_ROOT, 'test/pm2/fixtures', name);

export const ARBITER = 'fleetcron-arbiter';

/** The shipped arbiter entry, from source, as the ecosystem file declares it. */
export const arbiterApp = (env: Record<string, string> = {}, name = ARBITER): Pm2App => ({
  name,
  script: fixture('arbiter.mts'),
  exec_mode: 'fork',
  instances: 1,
  node_args: TS_NODE_ARGS,
  env,
});

/**
 * A private PM2 daemon serving elections through the arbiter for the tests of this file, torn down after them;
 * `apps` are started once the arbiter serves.
 */
export function usePm2WithArbiter(apps: Pm2App[] = []): () => Pm2Harness {
  let pm2: Pm2Harness | undefined;
  beforeAll(async () => {
    pm2 = await startPm2();
    await pm2.start([arbiterApp()]);
    await arbiterServing(pm2);
    if (apps.length > 0) await pm2.start(apps);
  }, 30_000);
  afterAll(() => pm2?.teardown(), 30_000);
  return () => pm2!;
}

/** Waits for the n-th start line of the arbiter `name` (1 for the first start, 2 after a restart, ...). */
export function arbiterServing(pm2: Pm2Harness, times = 1, name = ARBITER): Promise<true> {
  return pm2.waitFor(
    () => pm2.lines.filter((l) => l.app === name && l.text.includes('fleetcron-arbiter: serving elections')).length >= times,
    15_000,
    'the arbiter to serve elections',
  );
}

/** The `data` of every `fleetcron-test` report of `app` (see fixtures/report.mts), optionally of one kind. */
export function reportsOf<T>(pm2: Pm2Harness, app: string, kind?: string): T[] {
  return pm2.events
    .filter((e) => e.event === 'fleetcron-test' && e.packet.process?.name === app)
    .map((e) => e.packet.data as T & { kind?: string })
    .filter((data) => kind === undefined || data.kind === kind);
}

/** Every line the apps wrote, for the failure output of a test. */
export function logText(pm2: Pm2Harness): string {
  return pm2.lines.map((l) => `${l.app}[${l.pmId}] ${l.stream}: ${l.text}`).join('\n');
}

export const tsApp = (app: Omit<Pm2App, 'node_args'>): Pm2App => ({ ...app, node_args: TS_NODE_ARGS });

export const DEMO_APP = 'fleetcron-demo';

/** The demo app of the ecosystem file in cluster mode, with `fleetcron` resolved to the sources. */
export const demoApp = (instances: number): Pm2App =>
  tsApp({ name: DEMO_APP, script: join(REPO_ROOT, 'examples/pm2/app.js'), cwd: REPO_ROOT, exec_mode: 'cluster', instances });

/** One fire of the demo app's heartbeat: which instances ran it, which skipped it and why. */
export interface Fire {
  slot: string;
  ran: number[];
  skipped: { pmId: number; reason: string }[];
}

const HEARTBEAT = /^heartbeat (\S+) (ran|skipped) on pm_id (\d+)(?: \(([\w-]+)\))?$/;

/** The lines the demo app's instances wrote to the daemon of `pm2`. */
export const demoLines = (pm2: Pm2Harness) => (): string[] => pm2.lines.filter((l) => l.app === DEMO_APP).map((l) => l.text);

/** Reads the demo app's fires from its output lines (other lines are ignored), and classifies them. */
export function demoFires(lines: () => readonly string[], instances: number) {
  /** Every fire the demo instances logged, by slot, in slot order. */
  const fires = (): Fire[] => {
    const bySlot = new Map<string, Fire>();
    for (const line of lines()) {
      const match = HEARTBEAT.exec(line);
      if (!match) continue;
      const [, slot, outcome, pmId, reason] = match as unknown as [string, string, string, string, string | undefined];
      const fire = bySlot.get(slot) ?? { slot, ran: [], skipped: [] };
      bySlot.set(slot, fire);
      if (outcome === 'ran') fire.ran.push(Number(pmId));
      else fire.skipped.push({ pmId: Number(pmId), reason: reason ?? '?' });
    }
    return [...bySlot.values()].sort((a, b) => a.slot.localeCompare(b.slot));
  };
  const complete = (fire: Fire) => fire.ran.length + fire.skipped.length === instances;
  const elected = (fire: Fire) => complete(fire) && fire.ran.length === 1 && fire.skipped.every((s) => s.reason === 'not-elected');
  const gap = (fire: Fire) => complete(fire) && fire.ran.length === 0 && fire.skipped.every((s) => s.reason === 'coordinator-error');
  /** The fires from the first elected one on, up to the last one every instance has reported. */
  const settled = (since = ''): Fire[] => {
    const all = fires().filter((f) => f.slot > since);
    const first = all.findIndex(elected);
    if (first < 0) return [];
    return all.slice(first, all.findLastIndex(complete) + 1);
  };
  return { fires, complete, elected, gap, settled };
}
