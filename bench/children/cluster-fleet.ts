// One host: a node:cluster primary and `workers` workers, each scheduling the same every-second distributed task.
// Over `fires` fires: the Redis commands the host sent upstream, the runs of each fire, and (fleetcron) the
// election requests the workers sent the primary.
//   authority   fleetcron: the primary calls serveCluster() with a RedisLockCoordinator; workers use the default path
//   per-worker  fleetcron: every worker holds its own RedisLockCoordinator (per-task runCoordinator)
//   node-cron   node-cron 4.6: every worker holds its own node-cron-style Redis lock
import cluster, { type Worker } from 'node:cluster';
import { serveCluster, type RunCoordinator } from '../../src/index.js';
import { MESSAGE_TYPE, slotOfKey } from '../../src/ipc/protocol.js';
import { RedisLockCoordinator } from '../../src/redis.js';
import { finish, params } from '../lib/child-io.js';
import type { FleetModel } from '../lib/fleet-models.js';
import { loadScheduler, silentLogger } from '../lib/libraries.js';
import { ioRedisLock, NodeCronRedisLock } from '../lib/node-cron-redis-lock.js';
import { CommandMonitor, connectIoRedis } from '../lib/redis-clients.js';

export interface FleetParams {
  model: FleetModel;
  workers: number;
  fires: number;
  redisPort: number;
  runId: string;
}

export interface FleetResult {
  /** Commands the host's Redis connections sent during the window, by name. */
  commands: Record<string, number>;
  /** Runs of the task function per planned fire in the window. */
  runsPerFire: number[];
  /** fleetcron IPC requests from workers to the primary for the window's fires, by kind. */
  ipcRequests: Record<string, number>;
}

const READY = 'fleetcron-bench:ready';
const RAN = 'fleetcron-bench:ran';
const STOP = 'fleetcron-bench:stop';
const RUN_MS = 10;

interface BenchMessage {
  type?: unknown;
  slot?: number;
  data?: { kind?: unknown; key?: unknown };
}

const asMessage = (message: unknown): BenchMessage => (typeof message === 'object' && message !== null ? (message as BenchMessage) : {});

const { model, workers, fires, redisPort, runId } = params<FleetParams>();

async function primary(): Promise<void> {
  const monitor = await CommandMonitor.start(redisPort, runId);
  const upstream = model === 'authority' ? await connectIoRedis(redisPort, `${runId}-primary`) : undefined;
  const handle = upstream ? serveCluster({ coordinator: new RedisLockCoordinator(upstream, { prefix: `${runId}:` }), logger: silentLogger }) : undefined;

  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const inWindow = (slot: number | undefined) => slot !== undefined && slot >= first && slot <= last;
  const runs = new Map<number, number>();
  const ipcRequests: Record<string, number> = {};
  let ready = 0;
  let allReady: () => void = () => undefined;
  cluster.on('message', (_worker: Worker, raw: unknown) => {
    const message = asMessage(raw);
    if (message.type === READY && ++ready === workers) allReady();
    if (message.type === RAN && inWindow(message.slot)) runs.set(message.slot!, (runs.get(message.slot!) ?? 0) + 1);
    if (message.type === MESSAGE_TYPE && typeof message.data?.key === 'string' && inWindow(slotOfKey(message.data.key))) {
      const kind = String(message.data.kind);
      ipcRequests[kind] = (ipcRequests[kind] ?? 0) + 1;
    }
  });

  const forked: Worker[] = [];
  const killAll = () => forked.forEach((worker) => worker.process.kill('SIGKILL'));
  process.once('SIGTERM', () => {
    killAll();
    process.exit(1);
  });
  const everyoneReady = new Promise<void>((resolve) => (allReady = resolve));
  for (let i = 0; i < workers; i++) forked.push(cluster.fork());
  await everyoneReady;

  const commands = await monitor.countOver(fires, (from, to) => {
    first = from;
    last = to;
  });

  const exits = forked.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
  for (const worker of forked) worker.send({ type: STOP });
  const killer = setTimeout(killAll, 10_000);
  await Promise.all(exits);
  clearTimeout(killer);
  handle?.close();
  upstream?.disconnect();
  monitor.stop();
  const runsPerFire = Array.from({ length: fires }, (_, i) => runs.get(first + i * 1000) ?? 0);
  finish({ commands, runsPerFire, ipcRequests } satisfies FleetResult);
}

async function worker(): Promise<void> {
  const client = model === 'authority' ? undefined : await connectIoRedis(redisPort, `${runId}-worker-${process.pid}`);
  let coordinator: RunCoordinator | undefined;
  if (model === 'per-worker') coordinator = new RedisLockCoordinator(client!, { prefix: `${runId}:` });
  if (model === 'node-cron') coordinator = new NodeCronRedisLock(ioRedisLock(client!), `${runId}:`);
  const cron = await loadScheduler(model === 'node-cron' ? 'node-cron' : 'fleetcron');
  const task = cron.schedule(
    '* * * * * *',
    async ({ date }) => {
      process.send!({ type: RAN, slot: date.getTime() });
      await new Promise((resolve) => setTimeout(resolve, RUN_MS));
    },
    { name: `${runId}-tick`, distributed: true, ...(coordinator ? { runCoordinator: coordinator } : {}) },
  );
  process.on('message', (raw: unknown) => {
    if (asMessage(raw).type !== STOP) return;
    void Promise.resolve(task.destroy()).then(() => {
      client?.disconnect();
      process.disconnect();
    });
  });
  process.send!({ type: READY });
}

if (cluster.isPrimary) await primary();
else await worker();
