import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBuilt, REPO_ROOT } from './lib/build.js';
import { tracked } from './lib/cleanup.js';
import { untilSecondPhase, untilWall } from './lib/clock.js';
import { measureEach } from './lib/collect.js';
import { fixed, ratio, verdict } from './lib/format.js';
import { LIBRARIES, type LibraryName } from './lib/libraries.js';
import { descendants, killLeftovers, startNode } from './lib/process.js';
import type { Section } from './lib/section.js';
import { median, quantile, sum } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

interface Case {
  tasks: number;
  distributed: boolean;
}

const CASES: readonly Case[] = [
  { tasks: 1, distributed: false },
  { tasks: 10, distributed: false },
  { tasks: 1, distributed: true },
  { tasks: 10, distributed: true },
];
const TARGET_LEAD = 2;
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

const APP = fileURLToPath(new URL('children/background-app.mjs', import.meta.url));
/** The builds the app imports: fleetcron's package entry (dist/) and node-cron 4.6's. */
const LIBRARY_PATHS: Record<LibraryName, string> = {
  fleetcron: join(REPO_ROOT, 'dist/index.js'),
  'node-cron': fileURLToPath(import.meta.resolve('node-cron')),
};

/**
 * Each task file: prints the planned instant of each run, how late its function started after it (sub-ms:
 * performance.now() anchored at a tick of Date.now() when the file is loaded), and in which process.
 */
const TASK_FILE = `const start = Date.now();
let tick = Date.now();
while (tick === start) tick = Date.now();
const offset = tick - performance.now();
export function task(context) {
  const slot = context.date.getTime();
  console.log(JSON.stringify({ late: offset + performance.now() - slot, slot, pid: process.pid }));
}
`;

interface Outcome {
  /** The app and every process below it. */
  processes: number;
  rssMb: number;
  pssMb: number;
  /** ms from each planned instant of the window to a task function starting. */
  latencies: number[];
  /** Task runs the window planned. */
  planned: number;
  /** Whether a task function ever ran in the app's own process. */
  ranInApp: boolean;
  /** Processes still running below the app once shutdown() had resolved. */
  leftAfterShutdown: number;
}

/** A `kB` field of a /proc file of `pid` (0 if it is gone). */
function kilobytes(pid: number, file: string, field: string): number {
  try {
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function message<T>(app: ReturnType<typeof startNode>, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the app did not ${what} within ${timeoutMs} ms`)), timeoutMs);
    app.child.once('message', (value: T) => (clearTimeout(timer), resolve(value)));
    const failed = (reason: string) => (clearTimeout(timer), reject(new Error(`the app ${reason} before it did ${what}`)));
    app.closed.then(
      ({ code, signal }) => failed(`exited (${signal ?? `code ${code}`})`),
      (error: Error) => failed(`could not start (${error.message})`),
    );
  });
}

/** One app process with `tasks` background tasks of `library`, firing every second for `seconds` seconds. */
async function measure({ tasks, distributed }: Case, library: LibraryName, seconds: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetcron-bench-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  const scratch = tracked({ stop: async () => remove() }, remove);
  for (let i = 0; i < tasks; i++) writeFileSync(join(dir, `task${i}.mjs`), TASK_FILE);
  // The window: `seconds` planned fires, from the first whole second at least half a second after the start.
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const latencies: number[] = [];
  const runners = new Set<number>();
  let pending = '';
  const app = startNode([APP], {
    env: { ...process.env, LIBRARY_PATH: LIBRARY_PATHS[library], TASKS: String(tasks), TASK_DIR: dir, DISTRIBUTED: distributed ? '1' : '0', NODE_CRON_RUN: 'true' },
    ipc: true,
    onStdout(chunk) {
      const lines = (pending + chunk).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines.filter((text) => text.startsWith('{"late"'))) {
        const { late, slot, pid } = JSON.parse(line) as { late: number; slot: number; pid: number };
        runners.add(pid);
        if (slot >= first && slot <= last) latencies.push(late);
      }
    },
  });
  let tree: number[] = [];
  try {
    await message<'started'>(app, START_TIMEOUT_MS, 'start its tasks');
    first = (await untilSecondPhase(500)) + 500;
    last = first + (seconds - 1) * 1000;
    // Memory is read half-way between the last fire of the window and the next.
    await untilWall(last + 500);
    tree = [app.pid, ...descendants(app.pid)];
    const rssMb = tree.reduce((total, pid) => total + kilobytes(pid, 'status', 'VmRSS'), 0) / 1024;
    const pssMb = tree.reduce((total, pid) => total + kilobytes(pid, 'smaps_rollup', 'Pss'), 0) / 1024;
    const stopped = message<{ left: number }>(app, STOP_TIMEOUT_MS, 'shut down');
    app.child.send('stop');
    const { left } = await stopped;
    await app.closedWithin(STOP_TIMEOUT_MS);
    return { processes: tree.length, rssMb, pssMb, latencies, planned: tasks * seconds, ranInApp: runners.has(app.pid), leftAfterShutdown: left };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${library}, ${tasks} task(s)${distributed ? ', distributed' : ''}: ${reason}\n--- app output (last characters) ---\n${app.output()}`);
  } finally {
    await app.stop();
    // Whatever was running below the app and outlived it (a daemon the library left behind).
    killLeftovers(tree.slice(1));
    await scratch.stop();
  }
}

const label = ({ tasks, distributed }: Case) => `${tasks} task${tasks > 1 ? 's' : ''}${distributed ? ', distributed' : ''}`;

export const backgroundSection: Section = {
  name: 'background',
  title: 'Background tasks: memory and fire → function start (issue 5)',
  async run({ quick, runs }) {
    const build = await ensureBuilt();
    const seconds = quick ? 3 : 6;
    // One app at a time: the figures are of one app on an otherwise idle machine.
    const results = await measureEach(runs, CASES, (item, library) => measure(item, library, seconds));
    const figures = (item: Case, library: LibraryName) => {
      const all = results(item, library);
      const latencies = Float64Array.from(all.flatMap((r) => r.latencies)).sort();
      return {
        processes: Math.max(...all.map((r) => r.processes)),
        rssMb: median(all.map((r) => r.rssMb)),
        pssMb: median(all.map((r) => r.pssMb)),
        latency: { median: quantile(latencies, 0.5), p95: quantile(latencies, 0.95), max: latencies[latencies.length - 1] ?? Number.NaN },
        fires: `${latencies.length} / ${sum(all.map((r) => r.planned))}`,
        isolated: all.every((r) => !r.ranInApp && r.latencies.length > 0),
        left: Math.max(...all.map((r) => r.leftAfterShutdown)),
      };
    };
    const rows = CASES.flatMap((item) =>
      LIBRARIES.map((library) => {
        const f = figures(item, library);
        const latency = `${fixed(f.latency.median)} / ${fixed(f.latency.p95)} / ${fixed(f.latency.max)}`;
        return [label(item), library, String(f.processes), fixed(f.rssMb, 1), fixed(f.pssMb, 1), latency, f.fires, String(f.left)];
      }),
    );
    const tenTasks = CASES.filter((item) => item.tasks === 10);
    const targets = [
      ...tenTasks.flatMap((item) =>
        (['rssMb', 'pssMb'] as const).map((field) => {
          const fc = figures(item, 'fleetcron')[field];
          const nc = figures(item, 'node-cron')[field];
          return [
            `${label(item)}: ${field === 'rssMb' ? 'RSS' : 'PSS'} at least ${TARGET_LEAD}x below node-cron's`,
            `${fixed(fc, 1)} MB (lead ${ratio(nc, fc)})`,
            `${fixed(nc, 1)} MB`,
            verdict(fc * TARGET_LEAD <= nc),
          ];
        }),
      ),
      (() => {
        const isolated = (library: LibraryName) => CASES.every((item) => figures(item, library).isolated);
        const show = (library: LibraryName) => (isolated(library) ? 'yes' : 'no');
        return ['task functions run outside the app process (a task failing cannot take the app down)', show('fleetcron'), show('node-cron'), verdict(isolated('fleetcron'))];
      })(),
    ];
    return report(
      `${build} Per run and case, a fresh app process (plain node, no TypeScript loader, importing fleetcron's build ` +
        "or node-cron 4.6's) creates N background tasks with `createTask('* * * * * *', file)`, each its own task file, " +
        'distributed ones with a coordinator that always elects the app, and starts them. Over a window of ' +
        `${seconds} planned fires of every task, each task function prints how late it started after its planned instant ` +
        '(sub-ms wall clock) and its pid; half a second after the last of them, the memory of the app and every process ' +
        'below it is summed: RSS, and PSS (which divides the pages several processes map among them, so shared code is not ' +
        'counted once per process). Then ' +
        '`shutdown()`, and the processes still running below the app once it has resolved are counted. One app at a time. ' +
        `${runs} run(s): memory is the median over runs; fire → function start pools every fire of every run.`,
      markdownTable(
        ['case', 'library', ...right('processes', 'RSS (MB)', 'PSS (MB)', 'fire → function median / p95 / max (ms)', 'fires run / planned', 'alive after shutdown()')],
        rows,
      ),
      targetTable(5, ['fleetcron', 'node-cron 4.6'], targets),
    );
  },
};
