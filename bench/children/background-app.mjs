// The app of the background bench, run by plain node (no TypeScript loader, as an app runs in production): imports
// the scheduler at LIBRARY_PATH (fleetcron's build or node-cron 4.6), creates TASKS background tasks firing every
// second, one task file each (TASK_DIR/task<i>.mjs), distributed when DISTRIBUTED=1 (with a coordinator that always
// elects this process), starts them and says 'started' over IPC. Asked to stop, it calls shutdown() and answers with
// how many processes were still running below it once shutdown() had resolved, then exits.
import { readFileSync } from 'node:fs';

const cron = (await import(process.env.LIBRARY_PATH)).default;
const count = Number(process.env.TASKS);
const distributed = process.env.DISTRIBUTED === '1';
const options = (i) => (distributed ? { name: `t${i}`, distributed: true, runCoordinator: { shouldRun: () => true } } : { name: `t${i}` });
const tasks = Array.from({ length: count }, (_, i) => cron.createTask('* * * * * *', `${process.env.TASK_DIR}/task${i}.mjs`, options(i)));
await Promise.all(tasks.map((task) => task.start()));
process.send('started');

process.once('message', async () => {
  await cron.shutdown();
  const children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  process.send({ left: children.length }, () => process.exit(0));
});
