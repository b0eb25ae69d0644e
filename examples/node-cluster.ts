// One host, four node:cluster workers, one distributed task: every second exactly one worker runs the fire and the
// others are told `not-elected`. The primary serves the elections (serveCluster); no Redis, no PM2 needed.
// Stops by itself after ~8 s, or on Ctrl-C, with every worker gone.
//   npm start
import cluster from 'node:cluster';
import cron, { serveCluster } from 'fleetcron';

const WORKERS = 4;
const RUN_FOR_MS = Number(process.env.RUN_FOR_MS ?? 8000);

if (cluster.isPrimary) {
  const authority = serveCluster();
  for (let i = 0; i < WORKERS; i++) cluster.fork();
  console.log(`primary ${process.pid}: serving elections for ${WORKERS} workers`);

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
  const timer = setTimeout(stop, RUN_FOR_MS);
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
  process.on('message', (message) => {
    // Once its tasks are shut down and it leaves the cluster, nothing keeps the worker alive.
    if (message === 'stop') void cron.shutdown().then(() => cluster.worker?.disconnect());
  });
  // Ctrl-C reaches every process of the group: the workers let the primary decide when they stop.
  process.on('SIGINT', () => undefined);
}
