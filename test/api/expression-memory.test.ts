import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TS_NODE_ARGS } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('./children/distinct-expressions.ts', import.meta.url));

describe('memory of destroyed tasks', () => {
  it('keeps less than 2 MB after 50 000 tasks with distinct expressions are created and destroyed', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', ...TS_NODE_ARGS, CHILD], { timeout: 150_000 });
    const { retainedBytes, tasks } = JSON.parse(stdout) as { retainedBytes: number; tasks: number };
    expect(tasks).toBe(0);
    expect(retainedBytes).toBeLessThan(2 * 1024 * 1024);
  }, 180_000);
});
