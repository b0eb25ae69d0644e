// N tasks of the scale mix: time to schedule them, heap and timer handles they hold, CPU and fire lateness over an
// idle window with the fires that fall in it counted (missed, doubled), and the time to destroy them all.
import { finish, params } from '../lib/child-io.js';
import { untilSecondPhase, untilWall, wallNow } from '../lib/clock.js';
import { taskMix } from '../lib/expressions.js';
import { loadScheduler, type BenchTaskFn, type LibraryName } from '../lib/libraries.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface ScaleParams {
  library: LibraryName;
  tasks: number;
  idleSeconds: number;
}

export interface ScaleResult {
  scheduleUsPerTask: number;
  heapBytesPerTask: number;
  timerHandles: number;
  cpuMs: number;
  expectedFires: number;
  missed: number;
  duplicates: number;
  lateness: Summary;
  destroyMs: number;
  timerHandlesLeft: number;
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('the scale bench needs --expose-gc');

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

const timerHandles = () => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

const { library, tasks: count, idleSeconds } = params<ScaleParams>();
const cron = await loadScheduler(library);
const mix = taskMix(count);

// Fires are counted per task and per second of the window [first, first + idleSeconds).
let first = Number.POSITIVE_INFINITY;
const counts = new Uint8Array(count * idleSeconds);
const lateness = new Float64Array(count * idleSeconds);
let fires = 0;
const functions: BenchTaskFn[] = mix.expressions.map((_, index) => ({ date }) => {
  const slot = date.getTime();
  const second = (slot - first) / 1000;
  if (second < 0 || second >= idleSeconds) return;
  counts[index * idleSeconds + second]!++;
  if (fires < lateness.length) lateness[fires++] = wallNow() - slot;
});

// Warm up what both libraries build once per process (modules, zone data), so it is not charged to the tasks.
await cron.schedule('0 0 1 1 *', () => undefined).destroy();
const heapBefore = settledHeap();
const timersBefore = timerHandles();

let started = performance.now();
const tasks = mix.expressions.map((expression, index) => cron.schedule(expression, functions[index]!));
await Promise.resolve(); // what schedule() deferred to microtasks is part of its cost
const scheduleMs = performance.now() - started;
const heapBytes = settledHeap() - heapBefore;
const timers = timerHandles() - timersBefore;

// The idle window starts half-way through a second and spans exactly `idleSeconds` planned seconds.
const windowStart = await untilSecondPhase(500);
first = windowStart + 500;
const cpuBefore = process.cpuUsage();
await untilWall(windowStart + idleSeconds * 1000);
const cpu = process.cpuUsage(cpuBefore);
// Late fires of the window's last second still count, up to the libraries' missedExecutionTolerance (1 s).
await untilWall(windowStart + idleSeconds * 1000 + 1100);

started = performance.now();
await Promise.all(tasks.map((task) => task.destroy()));
const destroyMs = performance.now() - started;
await new Promise((resolve) => setImmediate(resolve));

let expectedFires = 0;
let missed = 0;
let duplicates = 0;
for (let index = 0; index < count; index++) {
  for (let second = 0; second < idleSeconds; second++) {
    const ran = counts[index * idleSeconds + second]!;
    const planned = mix.firesAt(index, first + second * 1000) ? 1 : 0;
    expectedFires += planned;
    if (ran < planned) missed++;
    // A fire run twice, or a run at a second the task does not fire at.
    if (ran > planned) duplicates += ran - planned;
  }
}

finish({
  scheduleUsPerTask: (scheduleMs * 1000) / count,
  heapBytesPerTask: heapBytes / count,
  timerHandles: timers,
  cpuMs: (cpu.user + cpu.system) / 1000,
  expectedFires,
  missed,
  duplicates,
  lateness: summarize(lateness.subarray(0, fires)),
  destroyMs,
  timerHandlesLeft: timerHandles() - timersBefore,
} satisfies ScaleResult);
