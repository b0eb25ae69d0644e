// Schedules a task file that runs in a background daemon, watches it from the app, then shuts down.
// Run it with: npx tsx examples/background/app.ts
import cron, { MemoryRunCoordinator } from 'fleetcron';

console.log(`app ${process.pid}: scheduling ./tasks/digest.ts every second`);

// The path is relative to this file. `distributed` fires are elected by this process (the daemon asks it over IPC);
// in a node:cluster worker or a PM2 instance they would be elected by the host's authority instead.
const digest = cron.schedule('* * * * * *', './tasks/digest.ts', {
  name: 'digest',
  distributed: true,
  runCoordinator: new MemoryRunCoordinator(),
});

digest.on('task:started', () => console.log(`digest started; next run at ${digest.getNextRun()?.toISOString()}`));
digest.on('execution:finished', (ctx) => {
  const { fire, primes, daemon } = ctx.execution?.result as { fire: Date; primes: number; daemon: number };
  // Results keep their types across the process boundary: `fire` is a Date here.
  console.log(`run for ${fire.toISOString()} found ${primes} primes in daemon ${daemon} (took ${ctx.execution!.finishedAt!.getTime() - ctx.execution!.startedAt!.getTime()} ms)`);
});
digest.on('task:failed', (ctx) => console.error(`the daemon died: ${ctx.error?.message}`));

let runs = 0;
digest.on('execution:finished', async () => {
  if (++runs !== 3) return;
  const result = (await digest.execute()) as { primes: number };
  console.log(`execute() now: ${result.primes} primes`);
  // Stops the task, waits for a run in progress, and ends the daemon: the process exits by itself.
  await cron.shutdown();
  console.log('shut down');
});

process.once('SIGINT', () => void cron.shutdown());
