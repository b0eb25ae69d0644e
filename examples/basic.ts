// Two tasks in one process: they print each fire and their next runs, and the process ends by itself after a
// few seconds (or on Ctrl-C) with a graceful shutdown().
//   npx tsx examples/basic.ts
import cron from 'fleetcron';

const time = (date: Date) => date.toISOString().slice(11, 23);

const tick = cron.schedule('* * * * * *', (ctx) => {
  console.log(`tick   fired for ${time(ctx.date)} at ${time(new Date())}`);
});

const report = cron.schedule(
  '*/2 * * * * *',
  async (ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return `report for ${ctx.dateLocalIso}`;
  },
  { name: 'report', timezone: 'Asia/Kolkata' },
);
report.on('execution:finished', (ctx) => console.log(`report finished: ${String(ctx.execution?.result)}`));

console.log('next ticks:  ', tick.getNextRuns(3).map(time).join(', '));
console.log('next reports:', report.getNextRuns(3).map((d) => d.toISOString()).join(', '));

async function stop(reason: string) {
  console.log(`${reason}: shutting down`);
  await cron.shutdown();
  console.log(`done; tasks left: ${cron.getTasks().size}`);
}

const timer = setTimeout(() => void stop('5 s elapsed'), 5000);
process.once('SIGINT', () => {
  clearTimeout(timer);
  void stop('Ctrl-C');
});
