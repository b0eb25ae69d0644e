import type { ScaleParams, ScaleResult } from './children/scale.js';
import { runChild } from './lib/child.js';
import { measureEach } from './lib/collect.js';
import { MIX_DESCRIPTION } from './lib/expressions.js';
import { fixed, integer, ratio, verdict } from './lib/format.js';
import { LIBRARIES, type LibraryName } from './lib/libraries.js';
import type { Section } from './lib/section.js';
import { median, medianSummary, sum } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const SIZES = [1_000, 10_000, 100_000] as const;
const ON_TIME_P99_MS = 10;

interface Figures {
  scheduleUs: number;
  heapBytes: number;
  timers: number;
  cpuMs: number;
  expectedFires: number;
  missed: number;
  duplicates: number;
  lateness: ReturnType<typeof medianSummary>;
  destroyMs: number;
  timersLeft: number;
}

function combine(runs: readonly ScaleResult[]): Figures {
  return {
    scheduleUs: median(runs.map((r) => r.scheduleUsPerTask)),
    heapBytes: median(runs.map((r) => r.heapBytesPerTask)),
    timers: median(runs.map((r) => r.timerHandles)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    expectedFires: sum(runs.map((r) => r.expectedFires)),
    missed: sum(runs.map((r) => r.missed)),
    duplicates: sum(runs.map((r) => r.duplicates)),
    lateness: medianSummary(runs.map((r) => r.lateness)),
    destroyMs: median(runs.map((r) => r.destroyMs)),
    timersLeft: Math.max(...runs.map((r) => r.timerHandlesLeft)),
  };
}

export const scaleSection: Section = {
  name: 'scale',
  title: '1 000 / 10 000 / 100 000 tasks',
  async run({ quick, runs }) {
    const idleSeconds = quick ? 3 : 10;
    // One at a time: scheduling is CPU-bound and would compete for the two cores.
    const results = await measureEach(runs, SIZES, (tasks, library) =>
      runChild<ScaleResult>('scale.ts', { library, tasks, idleSeconds } satisfies ScaleParams, 300_000),
    );
    const figures = (tasks: (typeof SIZES)[number], library: LibraryName) => combine(results(tasks, library));

    const rows = SIZES.flatMap((tasks) =>
      LIBRARIES.map((library) => {
        const f = figures(tasks, library);
        return [
          integer(tasks),
          library,
          fixed(f.scheduleUs, 1),
          integer(f.heapBytes),
          integer(f.timers),
          integer(f.cpuMs),
          integer(f.expectedFires),
          integer(f.missed),
          integer(f.duplicates),
          `${fixed(f.lateness.median)} / ${fixed(f.lateness.p99)} / ${fixed(f.lateness.max)}`,
          integer(f.destroyMs),
          integer(f.timersLeft),
        ];
      }),
    );

    const fc10k = figures(10_000, 'fleetcron');
    const nc10k = figures(10_000, 'node-cron');
    const fc100k = figures(100_000, 'fleetcron');
    const nc100k = figures(100_000, 'node-cron');
    const timeliness = (f: Figures) => `${f.missed} missed, ${f.duplicates} dup of ${integer(f.expectedFires)}`;
    const targets = [
      ['schedule time per task at 10 000 ≤ ½ node-cron', `${fixed(fc10k.scheduleUs, 1)} µs (${ratio(fc10k.scheduleUs, nc10k.scheduleUs)})`, `${fixed(nc10k.scheduleUs, 1)} µs`, verdict(fc10k.scheduleUs <= nc10k.scheduleUs / 2)],
      ['heap per task at 10 000 ≤ ½ node-cron', `${integer(fc10k.heapBytes)} B (${ratio(fc10k.heapBytes, nc10k.heapBytes)})`, `${integer(nc10k.heapBytes)} B`, verdict(fc10k.heapBytes <= nc10k.heapBytes / 2)],
      ['one timer for the process (≤ 2 handles at 10 000)', integer(fc10k.timers), integer(nc10k.timers), verdict(fc10k.timers <= 2)],
      ['100 000 tasks: every planned fire runs, once', timeliness(fc100k), timeliness(nc100k), verdict(fc100k.missed === 0 && fc100k.duplicates === 0)],
      [`100 000 tasks: lateness p99 ≤ ${ON_TIME_P99_MS} ms (the idle accuracy target)`, `${fixed(fc100k.lateness.p99)} ms`, `${fixed(nc100k.lateness.p99)} ms`, verdict(fc100k.lateness.p99 <= ON_TIME_P99_MS)],
    ];
    return report(
      `Task mix: ${MIX_DESCRIPTION}. Per run and library, a fresh process schedules the N tasks (\`schedule()\` in a loop, ` +
        'then one microtask turn), takes heap after forced GC (minus the heap before scheduling) and the active `Timeout` ' +
        `handles, then idles ${idleSeconds} s: CPU time (user + system) over exactly ${idleSeconds} planned seconds, and every ` +
        'fire planned in them checked (missed, doubled or unplanned runs, lateness of the task function start). ' +
        `Then \`destroy()\` on every task. ${runs} run(s): medians over runs; fires, missed and dup are totals.`,
      markdownTable(
        [
          ...right('tasks'),
          'library',
          ...right('schedule (µs/task)', 'heap (B/task)', 'timer handles', `CPU in ${idleSeconds} s (ms)`, 'fires planned', 'missed', 'dup'),
          ...right('lateness median / p99 / max (ms)', 'destroy all (ms)', 'timers left'),
        ],
        rows,
      ),
      targetTable(2, ['fleetcron', 'node-cron 4.6'], targets),
    );
  },
};
