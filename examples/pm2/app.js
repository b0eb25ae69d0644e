// One instance of the PM2 demo app (see ecosystem.config.js): every instance schedules the same distributed task,
// and for each fire the fleetcron arbiter elects exactly one of them; the others skip it as `not-elected`.
import cron from 'fleetcron';

const instance = `pm_id ${process.env.pm_id ?? '?'}`;

const task = cron.schedule(
  '* * * * * *',
  (context) => {
    console.log(`heartbeat ${context.date.toISOString()} ran on ${instance}`);
  },
  { name: 'heartbeat', distributed: true },
);

task.on('execution:skipped', (context) => {
  console.log(`heartbeat ${context.date.toISOString()} skipped on ${instance} (${context.reason})`);
});

// PM2 stops an app with SIGINT: let a run in progress finish, then leave.
process.once('SIGINT', () => {
  cron.shutdown().finally(() => process.exit(0));
});
