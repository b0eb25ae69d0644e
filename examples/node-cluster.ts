// One host, four node:cluster workers, one distributed task: every second exactly one worker runs the fire and the
// others are told `not-elected`. The primary serves the elections (serveCluster); no Redis, no PM2 needed.
// Stops by itself ~8 s after all four workers have scheduled the task, or on Ctrl-C, with every worker gone.
//   npm start
import cluster from 'node:cluster';
import cron, { serveCluster } from 'fleetcron';

const WORKERS = 4;
const RUN_FOR_MS = Number(process.env.RUN_FOR_MS ?? 8000);

if (cluster.isPrimary) {
  const authority = serveCluster();
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  console.log(`primary ${process.pid}: serving elections; waiting for ${WORKERS} workers to schedule the task`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    console.log('primary: stopping workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.send('stop');
  };
  let exited = 0;
  cluster.on('exit', () => {
    if (++exited < WORKERS) return;
    authority.close();
    console.log('primary: all workers gone');
  });
  // Workers take a moment to boot: the first fires may find only some of them. The clock starts once all are in.
  let timer: NodeJS.Timeout | undefined;
  let ready = 0;
  cluster.on('message', (_worker, message) => {
    if (message !== 'ready' || ++ready < WORKERS) return;
    console.log(`primary: all ${WORKERS} workers are in; stopping in ${RUN_FOR_MS / 1000} s`);
    timer = setTimeout(stop, RUN_FOR_MS);
  });
  process.once('SIGINT', () => {
    clearTimeout(timer);
    stop();
  });
} else {
  const id = `worker ${cluster.worker?.id} (pid ${process.pid})`;
  const task = cron.schedule(
    '* * * * * *',
    (ctx) => console.log(`${ctx.date.toISOString().slice(11, 19)}  ${id}  RAN the fire`),
    { name: 'heartbeat', distributed: true },
  );
  task.on('execution:skipped', (ctx) => console.log(`${ctx.date.toISOString().slice(11, 19)}  ${id}  skipped: ${ctx.reason}`));
  process.send?.('ready');
  process.on('message', (message) => {
    // Once its tasks are shut down and it leaves the cluster, nothing keeps the worker alive.
    if (message === 'stop') void cron.shutdown().then(() => cluster.worker?.disconnect());
  });
  // Ctrl-C reaches every process of the group: the workers let the primary decide when they stop.
  process.on('SIGINT', () => undefined);
}
