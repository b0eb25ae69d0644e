import { startRedisServer } from '../test/support/redis-server.js';
import type { FleetParams, FleetResult } from './children/cluster-fleet.js';
import type { RttParams, RttResult } from './children/cluster-rtt.js';
import { runChild } from './lib/child.js';
import { tracked } from './lib/cleanup.js';
import { FLEET_MODELS, FLEET_SETUPS } from './lib/fleet-models.js';
import { fixed, verdict } from './lib/format.js';
import { describeCalls, totalCalls } from './lib/redis-clients.js';
import { roundTripTables } from './lib/round-trips.js';
import type { Section } from './lib/section.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const WORKER_COUNTS = [1, 4, 8] as const;

async function roundTrips(runs: number, samples: number): Promise<string> {
  const results: RttResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await runChild<RttResult>('cluster-rtt.ts', { samples } satisfies RttParams, 120_000));
  return report(
    `A primary calling \`serveCluster()\` (no upstream: host-local election) and one worker. The worker measures, in alternating ` +
      `batches of 100 after a warm-up, ${samples} raw round trips (a message shaped and sized like an election request) and ${samples} ` +
      'elections of distinct fires through `AuthorityClient` — the client `hostCoordinator()` gives every distributed task of a ' +
      `worker (called directly, so each sample is one election). ${runs} run(s): medians over runs.`,
    ...roundTripTables(
      'node:cluster',
      { raw: '`process.send` echoed by the primary (`worker.send`)', elect: '`AuthorityClient.shouldRun` → `serveCluster()`' },
      results,
    ),
  );
}

async function upstreamCommands(fires: number): Promise<string> {
  const redis = tracked(await startRedisServer());
  const results = new Map<string, FleetResult>();
  try {
    for (const workers of WORKER_COUNTS) {
      for (const model of FLEET_MODELS) {
        const params: FleetParams = { model, workers, fires, redisPort: redis.port, runId: `${model}-${workers}` };
        results.set(`${workers}/${model}`, await runChild<FleetResult>('cluster-fleet.ts', params, 120_000));
      }
    }
  } finally {
    await redis.stop();
  }
  const perFire = (count: number) => fixed(count / fires);
  const rows = WORKER_COUNTS.flatMap((workers) =>
    FLEET_MODELS.map((model) => {
      const r = results.get(`${workers}/${model}`)!;
      const ipc = Object.entries(r.ipcRequests)
        .sort()
        .map(([kind, count]) => `${perFire(count)} ${kind}`)
        .join(' + ');
      return [String(workers), FLEET_SETUPS[model], `${perFire(totalCalls(r.commands))} (${describeCalls(r.commands)})`, r.runsPerFire.join(' '), ipc || '—'];
    }),
  );
  const authority = WORKER_COUNTS.map((workers) => totalCalls(results.get(`${workers}/authority`)!.commands) / fires);
  const exactlyOnce = [...results.entries()].filter(([id]) => !id.endsWith('/node-cron')).every(([, r]) => r.runsPerFire.every((runs) => runs === 1));
  const targets = [
    // Issue 10: the claim, which writes the fire's record, and the record's end — the same whatever the workers.
    ['upstream Redis commands per fire per host = 2 (claim and end), whatever the workers', authority.map((n) => fixed(n)).join(' / '), verdict(authority.every((n) => n === 2))],
    ['each fire runs exactly once on the host (every fleetcron setup)', exactlyOnce ? 'yes' : 'no', verdict(exactlyOnce)],
  ];
  return report(
    `One host (a node:cluster primary and 1, 4 or 8 workers) with one \`* * * * * *\` distributed task in every worker, a 10 ms run, ` +
      `against a private redis-server (ioredis); over ${fires} planned seconds, the commands the host's connections sent Redis (MONITOR), ` +
      'the runs of each fire, and the fleetcron requests the workers sent the primary. Counts are exact, so one run each.',
    markdownTable([...right('workers'), 'setup', ...right('upstream Redis commands / fire / host', 'runs of each fire', 'IPC requests / fire')], rows),
    targetTable(4, ['fleetcron (1 / 4 / 8 workers)'], targets),
  );
}

export const clusterIpcSection: Section = {
  name: 'ipc',
  title: 'Elections over node:cluster IPC (issue 4)',
  async run({ quick, runs }) {
    const rtt = await roundTrips(runs, quick ? 500 : 2000);
    const commands = await upstreamCommands(quick ? 3 : 4);
    return report(rtt, commands);
  },
};
