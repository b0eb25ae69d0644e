import { afterEach, describe, expect, it, vi } from 'vitest';
import cron, { type TaskContext } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';

// A fire this process won and then could not run is never dropped silently (issue: "exactly once, or loudly not").

afterEach(() => {
  vi.restoreAllMocks();
});

describe('a won fire that cannot run', () => {
  it('is reported as skipped (coordinator-error, with the cause) by a task stopped during its random delay; onComplete is still called', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9); // a random delay of 360 ms
    const completed: string[] = [];
    const skipped: TaskContext[] = [];
    let ran = 0;
    const task = cron.createTask('* * * * * *', () => void ran++, {
      name: 'won-then-stopped',
      distributed: true,
      maxRandomDelay: 400,
      logger: silentLogger,
      runCoordinator: {
        shouldRun: () => {
          // Stopped right after winning, while the random delay runs.
          setTimeout(() => task.stop(), 20);
          return true;
        },
        onComplete: (key) => void completed.push(key),
      },
    });
    task.on('execution:skipped', (ctx) => void skipped.push(ctx));
    await task.start();
    const deadline = Date.now() + 8000;
    while (skipped.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    task.destroy();
    expect(ran).toBe(0);
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toBe('coordinator-error');
    expect(skipped[0]!.error?.message).toMatch(/elected here but not run: task won-then-stopped was stopped before its run began/);
    expect(completed).toEqual([`won-then-stopped:${skipped[0]!.date.toISOString()}`]);
  });
});
