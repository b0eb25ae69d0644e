import type { BatchingParams, BatchingResult } from './children/claim-batching.js';
import { runChild } from './lib/child.js';
import { fixed, integer, verdict } from './lib/format.js';
import type { Section } from './lib/section.js';
import { median } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const TASKS = 100_000;
/** Claims batched (≤ 500 per call) or not, and batched with the fleet-wide policies on (issue 11). */
const RUNS = [
  { key: 'on', maxBatch: 500, policies: false, label: 'on (≤ 500 per call)' },
  { key: 'off', maxBatch: 1, policies: false, label: 'off (1 per call)' },
  { key: 'policies', maxBatch: 500, policies: true, label: "on, every task with overlap: 'skip' and fleetMaxExecutions" },
] as const;
/** Upstream calls per second at 100 000 tasks, with batching: at most this share of the fires (issue 10). */
const CALLS_SHARE_MAX = 0.01;

export const recordsSection: Section = {
  name: 'records',
  title: 'Fire records: upstream calls of a host at 100 000 tasks, claims batched or not, policies on or off (issues 10, 11)',
  async run({ quick, runs }) {
    const seconds = quick ? 3 : 10;
    const results = new Map<string, BatchingResult[]>(RUNS.map(({ key }) => [key, []]));
    for (let run = 0; run < runs; run++) {
      for (const { key, maxBatch, policies } of RUNS) {
        const result = await runChild<BatchingResult>('claim-batching.ts', { tasks: TASKS, seconds, maxBatch, policies } satisfies BatchingParams, 300_000);
        results.get(key)!.push(result);
      }
    }
    const perSecond = (key: string, field: keyof BatchingResult) => median(results.get(key)!.map((r) => r[field])) / seconds;
    const upstreamPerFire = (key: string) =>
      (perSecond(key, 'claimCalls') + perSecond(key, 'endCalls') + perSecond(key, 'renewCalls')) / perSecond(key, 'fires');
    const rows = RUNS.map(({ key, label }) => [
      label,
      integer(perSecond(key, 'fires')),
      integer(perSecond(key, 'claimCalls')),
      integer(perSecond(key, 'endCalls')),
      integer(perSecond(key, 'renewCalls')),
      `${fixed(upstreamPerFire(key) * 100, 1)} %`,
    ]);
    const fires = perSecond('on', 'fires');
    const claims = perSecond('on', 'claimCalls');
    const upstream = upstreamPerFire('on') * fires;
    // Unbatched, calls per fire count round trips per fire: the policies must not add one.
    const unbatched = upstreamPerFire('off');
    return report(
      `${integer(TASKS)} distributed tasks of the scale mix in one process, elected by one authority over an in-memory ` +
        `backend that counts its calls, for ${seconds} s (one process stands for a host: its workers' requests would ` +
        `reach the authority in the same turns). Medians over ${runs} run(s).`,
      markdownTable(['batching (claims and ends)', ...right('fires / s', 'claim calls / s', 'end calls / s', 'renew calls / s', 'upstream calls / fire')], rows),
      targetTable(10, ['measured'], [
        [`claims with batching ≤ ${CALLS_SHARE_MAX * 100} % of the fires`, `${fixed((claims / fires) * 100, 2)} %`, verdict(claims / fires <= CALLS_SHARE_MAX)],
        [`all upstream calls with batching ≤ ${CALLS_SHARE_MAX * 100} % of the fires`, `${fixed((upstream / fires) * 100, 2)} %`, verdict(upstream / fires <= CALLS_SHARE_MAX)],
        [
          'policies on: no extra upstream call per fire (batched, as the fires without policies)',
          `${fixed(upstreamPerFire('policies') * 100, 2)} % vs ${fixed(upstreamPerFire('on') * 100, 2)} % (unbatched: ${fixed(unbatched, 2)} per fire)`,
          verdict(upstreamPerFire('policies') <= upstreamPerFire('on') * 1.05),
        ],
      ]),
    );
  },
};
