import type { AccuracyParams, AccuracyResult } from './children/accuracy.js';
import { DEFAULT_LOAD } from './lib/busy-loop.js';
import { runChild } from './lib/child.js';
import { collect } from './lib/collect.js';
import { fixed, verdict } from './lib/format.js';
import { LIBRARIES, type LibraryName } from './lib/libraries.js';
import type { Section } from './lib/section.js';
import { medianSummary, sum } from './lib/stats.js';
import { markdownTable } from './lib/table.js';

const LOADS = ['idle', 'busy'] as const;
type Load = (typeof LOADS)[number];

const TARGET_MEDIAN_MS = 2;
const TARGET_P99_MS = 10;

export const accuracySection: Section = {
  name: 'accuracy',
  title: 'Fire accuracy of an every-second task',
  async run({ quick, runs }) {
    const seconds = quick ? 8 : 20;
    const results = new Map<string, AccuracyResult[]>();
    const key = (load: Load, library: LibraryName) => `${load}/${library}`;
    for (let run = 0; run < runs; run++) {
      for (const load of LOADS) {
        // The two libraries run side by side (separate processes, one core each), so they meet the same conditions.
        await Promise.all(
          LIBRARIES.map(async (library) => {
            const params: AccuracyParams = { library, busy: load === 'busy', seconds };
            collect(results, key(load, library), await runChild<AccuracyResult>('accuracy.ts', params, (seconds + 30) * 1000));
          }),
        );
      }
    }

    const figures = (load: Load, library: LibraryName) => {
      const all = results.get(key(load, library)) ?? [];
      return {
        lateness: medianSummary(all.map((r) => r.lateness)),
        missed: sum(all.map((r) => r.missed)),
        duplicates: sum(all.map((r) => r.duplicates)),
      };
    };
    const expected = runs * seconds;
    const rows = LOADS.flatMap((load) =>
      LIBRARIES.map((library) => {
        const f = figures(load, library);
        return [load, library, fixed(f.lateness.median), fixed(f.lateness.p99), fixed(f.lateness.max), `${f.missed} / ${expected}`, `${f.duplicates}`];
      }),
    );
    const idle = (library: LibraryName) => figures('idle', library);
    const fc = idle('fleetcron');
    const nc = idle('node-cron');
    const targets = [
      [`idle lateness median ≤ ${TARGET_MEDIAN_MS} ms`, `${fixed(fc.lateness.median)} ms`, `${fixed(nc.lateness.median)} ms`, verdict(fc.lateness.median <= TARGET_MEDIAN_MS)],
      [`idle lateness p99 ≤ ${TARGET_P99_MS} ms`, `${fixed(fc.lateness.p99)} ms`, `${fixed(nc.lateness.p99)} ms`, verdict(fc.lateness.p99 <= TARGET_P99_MS)],
      ['idle: 0 missed, 0 duplicate seconds', `${fc.missed} / ${fc.duplicates}`, `${nc.missed} / ${nc.duplicates}`, verdict(fc.missed === 0 && fc.duplicates === 0)],
    ];
    return [
      `One \`* * * * * *\` task, ${seconds} planned fires per run, ${runs} run(s); lateness = task function start − planned second ` +
        '(sub-ms wall clock). Lateness: median over runs of each run\'s median / p99 / max. Missed / duplicate seconds: ' +
        `total over all runs. Busy: every ${DEFAULT_LOAD.periodMs} ms a synchronous busy-wait of ${DEFAULT_LOAD.minMs}-${DEFAULT_LOAD.maxMs} ms ` +
        '(seeded, the same sequence for both libraries). fleetcron and node-cron ran at the same time, each in its own process.',
      '',
      markdownTable(
        [
          { title: 'load' },
          { title: 'library' },
          { title: 'lateness median (ms)', align: 'right' },
          { title: 'p99 (ms)', align: 'right' },
          { title: 'max (ms)', align: 'right' },
          { title: 'missed seconds', align: 'right' },
          { title: 'duplicate seconds', align: 'right' },
        ],
        rows,
      ),
      '',
      markdownTable([{ title: 'target (issue 2)' }, { title: 'fleetcron', align: 'right' }, { title: 'node-cron 4.6', align: 'right' }, { title: 'fleetcron' }], targets),
    ].join('\n');
  },
};
