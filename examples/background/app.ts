// Schedules a task file that runs in a background daemon, watches three scheduled fires from the app, runs it once
// more by hand with execute(), then shuts down.
// Run it with: npx tsx examples/background/app.ts
import cron, { MemoryRunCoordinator } from 'fleetcron';

interface Digest {
  fire: Date;
  primes: number;
  daemon: number;
}

console.log(`app ${process.pid}: scheduling ./tasks/digest.ts every second`);

// The path is relative to this file. `distributed` fires are elected by this process (the daemon asks it over IPC);
// in a node:cluster worker or a PM2 instance they would be elected by the host's authority instead.
const digest = cron.schedule('* * * * * *', './tasks/digest.ts', {
  name: 'digest',
  distributed: true,
  runCoordinator: new MemoryRunCoordinator(),
});

digest.on('task:started', () => console.log(`digest started; next run at ${digest.getNextRun()?.toISOString()}`));
digest.on('task:failed', (ctx) => console.error(`digest failed (its task file could not start, or its daemon died): ${ctx.error?.message}`));

let fires = 0;
digest.on('execution:finished', (ctx) => {
  // execute() below finishes a run too; its result is printed where it is awaited.
  if (ctx.execution?.reason !== 'scheduled') return;
  // Results keep their types across the process boundary: `fire` is a Date here.
  const { fire, primes, daemon } = ctx.execution.result as Digest;
  const took = ctx.execution.finishedAt!.getTime() - ctx.execution.startedAt!.getTime();
  console.log(`scheduled fire ${fire.toISOString()}: found ${primes} primes in daemon ${daemon} (took ${took} ms)`);
  if (++fires === 3) void executeThenShutDown();
});

async function executeThenShutDown(): Promise<void> {
  // A manual run, now: not a fire, so not elected either.
  const { primes, daemon } = (await digest.execute()) as Digest;
  console.log(`manual execute(): found ${primes} primes in daemon ${daemon}`);
  // Stops the task, waits for a run in progress, and ends the daemon: the process exits by itself.
  await cron.shutdown();
  console.log('shut down');
}

process.once('SIGINT', () => void cron.shutdown());
