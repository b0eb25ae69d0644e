// Memory and fire→start latency of background tasks, fleetcron beside node-cron 4.6, measured in the same run.
// Needs the build (npm run build). Run: npx tsx test/background/measure.ts [seconds per case, default 6]
//
// Each case is a fresh app process (plain node, no loader) that schedules N background tasks, each its own task
// file, firing every second. After SECONDS of firing, the RSS (and PSS, which splits shared pages fairly) of the
// app and every process below it is summed; each task function prints how late it started after its planned
// instant, which gives the fire→start latency.
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SECONDS = Number(process.argv[2] ?? 6);
const root = fileURLToPath(new URL('../../', import.meta.url));
const LIBS = {
  fleetcron: join(root, 'dist/index.js'),
  'node-cron 4.6': join(root, 'node_modules/node-cron/dist/node-cron.js'),
};
type Lib = keyof typeof LIBS;

interface Case {
  lib: Lib;
  tasks: number;
  distributed: boolean;
}

interface Outcome {
  processes: number;
  /** Daemons still running when shutdown() had resolved. */
  left: number;
  rssMb: number;
  pssMb: number;
  latencies: number[];
}

const APP = `
const cron = (await import(process.env.LIB_PATH)).default;
const n = Number(process.env.TASKS);
const options = (i) => process.env.DISTRIBUTED === '1'
  ? { name: 't' + i, distributed: true, runCoordinator: { shouldRun: () => true } }
  : { name: 't' + i };
const tasks = Array.from({ length: n }, (_, i) => cron.createTask('* * * * * *', process.env.TASK_DIR + '/task' + i + '.mjs', options(i)));
await Promise.all(tasks.map((task) => task.start()));
process.send('started');
process.on('message', async () => {
  await cron.shutdown();
  const { readFileSync } = await import('node:fs');
  const left = readFileSync('/proc/' + process.pid + '/task/' + process.pid + '/children', 'utf8').trim().split(/\\s+/).filter(Boolean);
  process.send({ left: left.length }, () => process.exit(0));
});
`;

const TASK = `export function task(context) {
  const late = Date.now() - context.date.getTime();
  console.log(JSON.stringify({ late }));
}
`;

function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(tree)];
}

function kb(pid: number, file: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
  return Number(match?.[1] ?? 0);
}

async function measure({ lib, tasks, distributed }: Case): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetcron-measure-'));
  for (let i = 0; i < tasks; i++) writeFileSync(join(dir, `task${i}.mjs`), TASK);
  writeFileSync(join(dir, 'app.mjs'), APP);
  const app = fork(join(dir, 'app.mjs'), [], {
    execArgv: [],
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, LIB_PATH: LIBS[lib], TASKS: String(tasks), TASK_DIR: dir, DISTRIBUTED: distributed ? '1' : '0', NODE_CRON_RUN: 'true' },
  });
  const latencies: number[] = [];
  let buffered = '';
  app.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) if (line.startsWith('{"late"')) latencies.push((JSON.parse(line) as { late: number }).late);
  });
  const exited = new Promise((resolve) => app.once('exit', resolve));
  const messages: unknown[] = [];
  app.on('message', (message) => messages.push(message));
  while (messages.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const pids = tree(app.pid!);
  const outcome = {
    processes: pids.length,
    left: 0,
    rssMb: pids.reduce((sum, pid) => sum + kb(pid, 'status', 'VmRSS'), 0) / 1024,
    pssMb: pids.reduce((sum, pid) => sum + kb(pid, 'smaps_rollup', 'Pss'), 0) / 1024,
    latencies,
  };
  app.send('stop');
  await exited;
  outcome.left = (messages[1] as { left: number }).left;
  rmSync(dir, { recursive: true, force: true });
  return outcome;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const rows: string[][] = [['case', 'library', 'processes', 'RSS MB', 'PSS MB', 'fire→start p50 ms', 'p95 ms', 'max ms', 'samples', 'alive after shutdown()']];
for (const distributed of [false, true]) {
  for (const tasks of [1, 10]) {
    for (const lib of Object.keys(LIBS) as Lib[]) {
      const o = await measure({ lib, tasks, distributed });
      rows.push([
        `${tasks} task${tasks > 1 ? 's' : ''}${distributed ? ', distributed' : ''}`,
        lib,
        String(o.processes),
        o.rssMb.toFixed(1),
        o.pssMb.toFixed(1),
        String(percentile(o.latencies, 50)),
        String(percentile(o.latencies, 95)),
        String(Math.max(...o.latencies)),
        String(o.latencies.length),
        String(o.left),
      ]);
      console.error(`measured: ${rows.at(-1)!.join(' | ')}`);
    }
  }
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
console.log(`\nnode ${process.version}, ${SECONDS}s of firing per case, every task firing every second\n`);
for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
