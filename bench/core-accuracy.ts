import type { AccuracyParams, AccuracyResult } from './children/accuracy.js';
import { DEFAULT_LOAD } from './lib/busy-loop.js';
import { runChild } from './lib/child.js';
import { measureEach } from './lib/collect.js';
import { fixed, verdict } from './lib/format.js';
import { LIBRARIES, type LibraryName } from './lib/libraries.js';
import type { Section } from './lib/section.js';
import { medianSummary, sum } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const LOADS = ['idle', 'busy'] as const;
type Load = (typeof LOADS)[number];

const TARGET_MEDIAN_MS = 2;
const TARGET_P99_MS = 10;

export const accuracySection: Section = {
  name: 'accuracy',
  title: 'Fire accuracy of an every-second task',
  async run({ quick, runs }) {
    const seconds = quick ? 8 : 20;
    // The two libraries run side by side (separate processes, one core each), so they meet the same conditions.
    const results = await measureEach(
      runs,
      LOADS,
      (load, library) => runChild<AccuracyResult>('accuracy.ts', { library, busy: load === 'busy', seconds } satisfies AccuracyParams, (seconds + 30) * 1000),
      { sideBySide: true },
    );

    const figures = (load: Load, library: LibraryName) => {
      const all = results(load, library);
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
    return report(
      `One \`* * * * * *\` task, ${seconds} planned fires per run, ${runs} run(s); lateness = task function start − planned second ` +
        '(sub-ms wall clock). Lateness: median over runs of each run\'s median / p99 / max. Missed / duplicate seconds: ' +
        `total over all runs. Busy: every ${DEFAULT_LOAD.periodMs} ms a synchronous busy-wait of ${DEFAULT_LOAD.minMs}-${DEFAULT_LOAD.maxMs} ms ` +
        '(seeded, the same sequence for both libraries). fleetcron and node-cron ran at the same time, each in its own process.',
      markdownTable(['load', 'library', ...right('lateness median (ms)', 'p99 (ms)', 'max (ms)', 'missed seconds', 'duplicate seconds')], rows),
      targetTable(2, ['fleetcron', 'node-cron 4.6'], targets),
    );
  },
};
