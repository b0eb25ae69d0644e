import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startPm2, type Pm2Harness } from '../support/pm2.js';
import { runToExit, type RunOptions } from '../support/processes.js';
import { fixture } from './helpers.js';

/** Runs a fixture as a plain process (not a PM2 app); it is killed, and the test fails, if it outlives `timeoutMs`. */
const run = (script: string, env: NodeJS.ProcessEnv, timeoutMs: number, onStdout?: RunOptions['onStdout']) =>
  runToExit(fixture(script), { env, timeoutMs, onStdout });

let pm2: Pm2Harness;

beforeAll(async () => {
  pm2 = await startPm2();
}, 30_000);

afterAll(() => pm2?.teardown(), 30_000);

describe('servePm2 and the arbiter: lifecycle', () => {
  it('close() leaves nothing running: a process that served and closed exits by itself', async () => {
    const exit = await run('serve-once.mts', { PM2_HOME: pm2.home }, 15_000);
    expect(exit.stdout).toContain(`served ${pm2.home}`);
    expect(exit.stdout).toContain('closed');
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 20_000);

  it('never starts a PM2 daemon: without one it fails with a clear error and exits', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fc-'));
    try {
      const exit = await run('serve-once.mts', { PM2_HOME: home }, 15_000);
      expect(exit.stderr).toContain(`no PM2 daemon is running at PM2_HOME=${home}`);
      expect(exit.code).toBe(1);
      expect(existsSync(join(home, 'pm2.pid'))).toBe(false);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  }, 20_000);

  it('the fleetcron-arbiter bin (built) explains itself on --help without touching PM2', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fc-'));
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'dist/pm2-arbiter.js'), '--help'], {
        env: { ...process.env, PM2_HOME: home },
        timeout: 10_000,
      });
      expect(stdout).toContain("exec_mode: 'fork', instances: 1");
      for (const variable of ['REDIS_URL', 'FLEETCRON_REDIS_PREFIX', 'NODE_CRON_RUN', 'PM2_HOME']) expect(stdout).toContain(variable);
      expect(readdirSync(home)).toEqual([]);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('the arbiter exits cleanly on %s', async (signal) => {
    let sent = false;
    const exit = await run('arbiter.mts', { PM2_HOME: pm2.home }, 15_000, (stdout, kill) => {
      if (sent || !stdout.includes('fleetcron-arbiter: serving elections')) return;
      sent = true;
      kill(signal);
    });
    expect(exit.stdout).toContain(`${signal} received, stopping`);
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 20_000);

  // Last: it kills the daemon.
  it('close() after the daemon died leaves nothing reconnecting', async () => {
    const exit = await run('serve-once.mts', { PM2_HOME: pm2.home, CLOSE_AFTER: 'daemon-exit' }, 15_000, (stdout) => {
      if (stdout.includes('served')) void pm2.teardown();
    });
    expect(exit.stdout).toContain('daemon gone');
    expect(exit.stdout).toContain('closed');
    expect(exit).toMatchObject({ code: 0, signal: null });
  }, 20_000);
});
