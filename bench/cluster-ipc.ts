import type { FleetParams, FleetResult } from './children/cluster-fleet.js';
import type { RttParams, RttResult } from './children/cluster-rtt.js';
import { runChild } from './lib/child.js';
import { FLEET_MODELS, FLEET_SETUPS } from './lib/fleet-models.js';
import { fixed, ratio, verdict } from './lib/format.js';
import { describeCalls, totalCalls } from './lib/redis-clients.js';
import { startRedisServer } from './lib/redis-server.js';
import type { Section } from './lib/section.js';
import { medianSummary } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const WORKER_COUNTS = [1, 4, 8] as const;
const TARGET_RATIO = 2;

async function roundTrips(runs: number, samples: number): Promise<string> {
  const results: RttResult[] = [];
  for (let run = 0; run < runs; run++) results.push(await runChild<RttResult>('cluster-rtt.ts', { samples } satisfies RttParams, 120_000));
  const raw = medianSummary(results.map((r) => r.raw));
  const elect = medianSummary(results.map((r) => r.elect));
  const rows = [
    ['raw: `process.send` echoed by the primary (`worker.send`)', fixed(raw.median, 0), fixed(raw.p99, 0), '1.00x / 1.00x'],
    ['election: `AuthorityClient.shouldRun` → `serveCluster()`', fixed(elect.median, 0), fixed(elect.p99, 0), `${ratio(elect.median, raw.median)} / ${ratio(elect.p99, raw.p99)}`],
  ];
  const targets = [
    [`election round trip within ${TARGET_RATIO}x the raw one (median)`, ratio(elect.median, raw.median), verdict(elect.median <= TARGET_RATIO * raw.median)],
    [`election round trip within ${TARGET_RATIO}x the raw one (p99)`, ratio(elect.p99, raw.p99), verdict(elect.p99 <= TARGET_RATIO * raw.p99)],
  ];
  return [
    `A primary calling \`serveCluster()\` (no upstream: host-local election) and one worker. The worker measures, in alternating ` +
      `batches of 100 after a warm-up, ${samples} raw round trips (a message shaped and sized like an election request) and ${samples} ` +
      'elections of distinct fires through `AuthorityClient` — the client `hostCoordinator()` gives every distributed task of a ' +
      `worker (called directly, so each sample is one election). ${runs} run(s): medians over runs.`,
    '',
    markdownTable([{ title: 'node:cluster round trip' }, { title: 'median (µs)', align: 'right' }, { title: 'p99 (µs)', align: 'right' }, { title: '× raw (median / p99)', align: 'right' }], rows),
    '',
    markdownTable([{ title: 'target (issue 4)' }, { title: 'fleetcron', align: 'right' }, { title: 'fleetcron' }], targets),
  ].join('\n');
}

async function upstreamCommands(fires: number): Promise<string> {
  const redis = await startRedisServer();
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
  const exactlyOnce = [...results.values()].every((r) => r.runsPerFire.every((runs) => runs === 1));
  const targets = [
    ['upstream Redis commands per fire per host = 1, whatever the workers', authority.map((n) => fixed(n)).join(' / '), verdict(authority.every((n) => n === 1))],
    ['each fire runs exactly once on the host (every setup)', exactlyOnce ? 'yes' : 'no', verdict(exactlyOnce)],
  ];
  return [
    `One host (a node:cluster primary and 1, 4 or 8 workers) with one \`* * * * * *\` distributed task in every worker, a 10 ms run, ` +
      `against a private redis-server (ioredis); over ${fires} planned seconds, the commands the host's connections sent Redis (MONITOR), ` +
      'the runs of each fire, and the fleetcron requests the workers sent the primary. Counts are exact, so one run each.',
    '',
    markdownTable(
      [
        { title: 'workers', align: 'right' },
        { title: 'setup' },
        { title: 'upstream Redis commands / fire / host', align: 'right' },
        { title: 'runs of each fire', align: 'right' },
        { title: 'IPC requests / fire', align: 'right' },
      ],
      rows,
    ),
    '',
    markdownTable([{ title: 'target (issue 4)' }, { title: 'fleetcron (1 / 4 / 8 workers)', align: 'right' }, { title: 'fleetcron' }], targets),
  ].join('\n');
}

export const clusterIpcSection: Section = {
  name: 'ipc',
  title: 'Elections over node:cluster IPC (issue 4)',
  async run({ quick, runs }) {
    const rtt = await roundTrips(runs, quick ? 500 : 2000);
    const commands = await upstreamCommands(quick ? 3 : 4);
    return [rtt, '', commands].join('\n');
  },
};
