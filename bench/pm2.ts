import { arbiterApp, arbiterServing, fixture, reportsOf, tsApp } from '../test/pm2/helpers.js';
import { startPm2, type Pm2Harness } from '../test/support/pm2.js';
import { tracked } from './lib/cleanup.js';
import { killLeftovers } from './lib/process.js';
import { roundTripTables, type RoundTrips } from './lib/round-trips.js';
import type { Section } from './lib/section.js';
import { summarize } from './lib/stats.js';
import { report } from './lib/table.js';

const BATCH = 100;
const SAMPLES_TIMEOUT_MS = 120_000;

/** What startPm2() sets in this process's environment (for PM2's daemon and apps), put back after each run. */
const PM2_VARIABLES = ['PM2_HOME', 'PM2_DISABLE_VERSION_CHECK'] as const;

/**
 * Runs `body` with a private PM2 daemon (a fresh, short PM2_HOME; test/support's harness), torn down afterwards, on
 * an error or on Ctrl-C; should this process exit first, the daemon and its apps are killed by pid.
 */
async function withPm2<T>(body: (pm2: Pm2Harness, started: (pids: number[]) => void) => Promise<T>): Promise<T> {
  const saved = PM2_VARIABLES.map((name) => [name, process.env[name]] as const);
  const pids: number[] = [];
  const starting = startPm2();
  let pm2: Pm2Harness | undefined;
  // Registered before the daemon is up, so that Ctrl-C while it starts waits for it and tears it down.
  const session = tracked(
    { stop: async () => (await starting.catch(() => undefined))?.teardown() },
    () => killLeftovers([pm2?.godPid() ?? -1, ...pids].filter((pid) => pid > 0)),
  );
  try {
    pm2 = await starting;
    return await body(pm2, (more) => pids.push(...more));
  } finally {
    await session.stop();
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/**
 * One run: a daemon with the arbiter and the echo app, then the pinger (a PM2 cluster-mode instance, so its elections
 * go to the arbiter), which times `rounds` batches of raw round trips and of elections, alternately, after a warm-up.
 */
function measureRun(rounds: number): Promise<RoundTrips> {
  return withPm2(async (pm2, started) => {
    await pm2.start([arbiterApp(), tsApp({ name: 'echo', script: fixture('echo.mts'), exec_mode: 'fork', instances: 1 })]);
    await arbiterServing(pm2);
    await pm2.waitFor(() => pm2.lines.some((line) => line.app === 'echo' && line.text === 'echo: ready'), 15_000, 'the echo app');
    const env = { ROUNDS: String(rounds), BATCH: String(BATCH) };
    await pm2.start([tsApp({ name: 'pinger', script: fixture('pinger.mts'), exec_mode: 'cluster', instances: 1, env })]);
    const apps = await pm2.list();
    started(apps.map((app) => app.pid));
    const pinger = apps.find((app) => app.name === 'pinger');
    if (!pinger) throw new Error('PM2 did not list the pinger app');
    // The pinger's message listener is set once its module has run; PM2 reports it online before that.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await pm2.send(pinger.pm_id, { topic: 'fleetcron-test', data: { kind: 'go' } });
    const [samples] = await pm2.waitFor(() => {
      const reports = reportsOf<{ raw: number[]; elect: number[] }>(pm2, 'pinger', 'samples');
      return reports.length > 0 && reports;
    }, SAMPLES_TIMEOUT_MS, 'the round-trip samples of the pinger app');
    return { raw: summarize(samples!.raw), elect: summarize(samples!.elect) };
  });
}

export const pm2Section: Section = {
  name: 'pm2',
  title: 'IPC through the PM2 bus (issue 4)',
  async run({ quick, runs }) {
    const rounds = quick ? 5 : 20;
    const results: RoundTrips[] = [];
    for (let run = 0; run < runs; run++) results.push(await measureRun(rounds));
    const samples = rounds * BATCH;
    return report(
      'A private PM2 daemon (its own PM2_HOME) running the shipped arbiter (`fleetcron-arbiter`, fork mode), an echo app ' +
        '(fork mode: a bus subscription that sends every `fleetcron-raw` message straight back with `sendDataToProcessId`, ' +
        'the same two hops as an election and nothing else) and one cluster-mode instance that measures, in alternating ' +
        `batches of ${BATCH} after a warm-up, ${samples} raw round trips to the echo app and ${samples} elections of distinct ` +
        'fires through `AuthorityClient` (what `hostCoordinator()` gives a distributed task in a PM2 instance) to the arbiter. ' +
        `All apps run from source under tsx. ${runs} run(s), each on a fresh daemon: medians over runs.`,
      ...roundTripTables(
        'PM2 bus',
        { raw: 'instance → bus → echo app → `sendDataToProcessId`', elect: '`AuthorityClient.shouldRun` → bus → arbiter → `sendDataToProcessId`' },
        results,
      ),
    );
  },
};
