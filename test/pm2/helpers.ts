import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { REPO_ROOT, startPm2, TS_NODE_ARGS, type Pm2App, type Pm2Harness } from '../support/pm2.js';

export const fixture = (name: string) => join(REPO_ROOT, 'test/pm2/fixtures', name);

export const ARBITER = 'fleetcron-arbiter';

/** The shipped arbiter entry, from source, as the ecosystem file declares it. */
export const arbiterApp = (env: Record<string, string> = {}): Pm2App => ({
  name: ARBITER,
  script: fixture('arbiter.mts'),
  exec_mode: 'fork',
  instances: 1,
  node_args: TS_NODE_ARGS,
  env,
});

/** A private PM2 daemon serving elections through the arbiter for the tests of this file, torn down after them. */
export function usePm2WithArbiter(): () => Pm2Harness {
  let pm2: Pm2Harness | undefined;
  beforeAll(async () => {
    pm2 = await startPm2();
    await pm2.start([arbiterApp()]);
    await arbiterServing(pm2);
  }, 30_000);
  afterAll(() => pm2?.teardown(), 30_000);
  return () => pm2!;
}

/** Waits for the n-th start line of the arbiter (1 for the first start, 2 after a restart, ...). */
export function arbiterServing(pm2: Pm2Harness, times = 1): Promise<true> {
  return pm2.waitFor(
    () => pm2.lines.filter((l) => l.app === ARBITER && l.text.includes('fleetcron-arbiter: serving elections')).length >= times,
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
