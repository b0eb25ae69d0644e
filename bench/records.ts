import type { BatchingParams, BatchingResult } from './children/claim-batching.js';
import { runChild } from './lib/child.js';
import { fixed, integer, verdict } from './lib/format.js';
import type { Section } from './lib/section.js';
import { median } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const TASKS = 100_000;
const BATCHES = [500, 1] as const;
/** Upstream calls per second at 100 000 tasks, with batching: at most this share of the fires (issue 10). */
const CALLS_SHARE_MAX = 0.01;

export const recordsSection: Section = {
  name: 'records',
  title: 'Fire records: upstream calls of a host at 100 000 tasks, claims batched or not (issue 10)',
  async run({ quick, runs }) {
    const seconds = quick ? 3 : 10;
    const results = new Map<number, BatchingResult[]>(BATCHES.map((batch) => [batch, []]));
    for (let run = 0; run < runs; run++) {
      for (const maxBatch of BATCHES) {
        const result = await runChild<BatchingResult>('claim-batching.ts', { tasks: TASKS, seconds, maxBatch } satisfies BatchingParams, 300_000);
        results.get(maxBatch)!.push(result);
      }
    }
    const perSecond = (batch: number, field: keyof BatchingResult) => median(results.get(batch)!.map((r) => r[field])) / seconds;
    const rows = BATCHES.map((batch) => {
      const fires = perSecond(batch, 'fires');
      const upstream = perSecond(batch, 'claimCalls') + perSecond(batch, 'endCalls') + perSecond(batch, 'renewCalls');
      return [
        batch === 1 ? 'off (1 per call)' : `on (≤ ${batch} per call)`,
        integer(fires),
        integer(perSecond(batch, 'claimCalls')),
        integer(perSecond(batch, 'endCalls')),
        integer(perSecond(batch, 'renewCalls')),
        `${fixed((upstream / fires) * 100, 1)} %`,
      ];
    });
    const on = BATCHES[0];
    const fires = perSecond(on, 'fires');
    const claims = perSecond(on, 'claimCalls');
    const upstream = claims + perSecond(on, 'endCalls') + perSecond(on, 'renewCalls');
    return report(
      `${integer(TASKS)} distributed tasks of the scale mix in one process, elected by one authority over an in-memory ` +
        `backend that counts its calls, for ${seconds} s (one process stands for a host: its workers' requests would ` +
        `reach the authority in the same turns). Medians over ${runs} run(s).`,
      markdownTable(['batching (claims and ends)', ...right('fires / s', 'claim calls / s', 'end calls / s', 'renew calls / s', 'upstream calls / fire')], rows),
      targetTable(10, ['measured'], [
        [`claims with batching ≤ ${CALLS_SHARE_MAX * 100} % of the fires`, `${fixed((claims / fires) * 100, 2)} %`, verdict(claims / fires <= CALLS_SHARE_MAX)],
        [`all upstream calls with batching ≤ ${CALLS_SHARE_MAX * 100} % of the fires`, `${fixed((upstream / fires) * 100, 2)} %`, verdict(upstream / fires <= CALLS_SHARE_MAX)],
      ]),
    );
  },
};
