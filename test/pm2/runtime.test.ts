import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFailed } from 'vitest';
import { REPO_ROOT, waitFor } from '../support/pm2.js';
import { isAlive } from '../support/processes.js';
import { demoFires } from './helpers.js';

const require = createRequire(import.meta.url);
const ECOSYSTEM = join(REPO_ROOT, 'ecosystem.config.js');
const INSTANCES = 3; // as ecosystem.config.js declares the demo app

/** The processes whose environment names this PM2_HOME: pm2-runtime and every app it started. */
function processesOf(home: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(`PM2_HOME=${home}`)) pids.push(Number(entry));
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return pids;
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Exited meanwhile.
  }
}

// pm2-runtime is how PM2 runs in a container (Docker, Kubernetes): PM2's daemon in the foreground, no `pm2 start`.
describe.runIf(process.platform === 'linux')('pm2-runtime with the repository ecosystem.config.js and the built package', () => {
  it('runs each fire once across the 3 instances, and stops every process on SIGINT', async () => {
    expect(existsSync(join(REPO_ROOT, 'dist/pm2-arbiter.js')), 'dist/ is missing: run npm run build (npm test does)').toBe(true);
    const home = mkdtempSync(join(tmpdir(), 'fc-'));
    const runtime = spawn(process.execPath, [require.resolve('pm2/bin/pm2-runtime'), 'start', ECOSYSTEM], {
      cwd: REPO_ROOT,
      env: { ...process.env, PM2_HOME: home, PM2_DISABLE_VERSION_CHECK: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    for (const stream of [runtime.stdout, runtime.stderr]) createInterface({ input: stream }).on('line', (line) => lines.push(line));
    const exited = new Promise<number | null>((resolve) => runtime.once('exit', (code) => resolve(code)));
    onTestFailed(() => console.log(lines.join('\n')));

    try {
      const { fires, settled, elected } = demoFires(() => lines, INSTANCES);
      const run = await waitFor(() => {
        const fired = settled();
        return fired.length >= 6 && fired;
      }, 30_000, '6 elected fires under pm2-runtime');
      expect(run.filter((f) => !elected(f))).toEqual([]);
      expect(fires().filter((f) => f.ran.length > 1)).toEqual([]);
      expect(lines.some((l) => l.includes('fleetcron-arbiter: serving elections'))).toBe(true);

      const started = processesOf(home);
      expect(started.length).toBeGreaterThanOrEqual(1 + 1 + INSTANCES);
      runtime.kill('SIGINT');
      expect(await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000, 'still running'))])).toBe(0);
      await waitFor(() => started.every((pid) => !isAlive(pid)), 5000, 'every app of pm2-runtime to exit');
    } finally {
      for (const pid of processesOf(home)) kill(pid);
      rmSync(home, { recursive: true, force: true });
    }
  }, 60_000);
});
