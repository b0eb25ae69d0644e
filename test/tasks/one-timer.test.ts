import { afterAll, describe, expect, it } from 'vitest';
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
});
