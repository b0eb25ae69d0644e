import { afterAll, describe, expect, it } from 'vitest';
import { timerQueue } from '../../src/engine/timer-queue.js';
import cron from '../../src/index.js';

const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

afterAll(async () => {
  await cron.shutdown(0);
});

describe('one timer for the whole process', () => {
  it('keeps at most one or two active timeouts for 10 000 scheduled tasks, and none once they are destroyed', async () => {
    const before = timeouts();
    const patterns = ['* * * * * *', '*/5 * * * *', '0 3 * * *', '15 14 1 * *', '0 22 * * 1-5', '30 */2 * * * *', '0 0 L * *'];
    const zones = [undefined, 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata'];
    let runs = 0;
    const tasks = Array.from({ length: 10_000 }, (_, i) =>
      cron.schedule(patterns[i % patterns.length]!, () => void runs++, { timezone: zones[i % zones.length] }),
    );
    expect(cron.getTasks().size).toBeGreaterThanOrEqual(10_000);
    expect(timeouts() - before).toBeLessThanOrEqual(2);
    // The every-second tasks among them do fire, from that one timer.
    await new Promise((r) => setTimeout(r, 1100));
    expect(runs).toBeGreaterThanOrEqual(Math.floor(10_000 / patterns.length));
    for (const task of tasks) task.destroy();
    expect(timeouts() - before).toBeLessThanOrEqual(0);
  });

  it('keeps the timer heap small over 100 000 stop()/start() cycles of a far-future task, and empty after destroy()', async () => {
    expect(timerQueue.size).toBe(0);
    const task = cron.schedule('0 0 1 1 *', () => undefined);
    for (let i = 0; i < 100_000; i++) {
      task.stop();
      task.start();
      // Lets the task:started/stopped events be delivered as they would be between real calls.
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(timerQueue.size).toBe(1);
    expect(timerQueue.heapSize).toBeLessThanOrEqual(2);
    task.destroy();
    expect(timerQueue.heapSize).toBe(0);
  });
});

