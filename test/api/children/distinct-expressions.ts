// Run with --expose-gc: creates and destroys 50 000 tasks with distinct expressions and prints how much of the
// heap they left behind, measured after a warm-up on other expressions so compiled code is not counted.
import cron from 'fleetcron';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const collect = gc;

async function heapUsed(): Promise<number> {
  // Rounds of collection and event-loop turns, so weak references are cleared and their entries dropped.
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    collect();
  }
  return process.memoryUsage().heapUsed;
}

const churn = (count: number, expression: (i: number) => string): void => {
  for (let i = 0; i < count; i++) cron.schedule(expression(i), () => undefined).destroy();
};

churn(5_000, (i) => `${i % 60} ${Math.floor(i / 60) % 60} ${Math.floor(i / 3600) % 24} * * 1-5`);
const before = await heapUsed();
churn(50_000, (i) => `${i % 60},${Math.floor(i / 60) % 60} ${Math.floor(i / 3600) % 60},${(i * 7) % 60} ${i % 24} * * *`);
const after = await heapUsed();
process.stdout.write(`${JSON.stringify({ retainedBytes: after - before, tasks: cron.getTasks().size })}\n`);
