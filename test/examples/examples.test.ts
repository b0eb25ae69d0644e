import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesCarrying } from '../support/leftovers.js';
import { REPO_ROOT, waitFor } from '../support/pm2.js';
import { PG_CONFIG, requirePostgres } from '../support/postgres.js';
import { isAlive, runToExit, type RunOptions } from '../support/processes.js';
import { freePort, requireRedis } from '../support/redis-server.js';

const redisUp = await requireRedis();
const postgresUp = await requirePostgres();

/**
 * Runs an example as the README does (tsx, `fleetcron` from the sources); the test fails if it does not stop by itself,
 * or if any process it started (they all carry a marker in their environment) is still there shortly after.
 */
async function runExample(
  example: string,
  { env = {}, timeoutMs = 30_000, onStdout }: Partial<RunOptions> = {},
): Promise<{ code: number | null; lines: string[]; stderr: string; output: string }> {
  const marker = `fleetcron-example-${randomBytes(6).toString('hex')}`;
  let exit: Awaited<ReturnType<typeof runToExit>>;
  try {
    exit = await runToExit(`examples/${example}`, { cwd: REPO_ROOT, timeoutMs, onStdout, env: { ...env, FLEETCRON_EXAMPLE_RUN: marker } });
  } catch (error) {
    // Killed on its timeout, the example could not stop what it started (a PM2 daemon and its apps): they carry the
    // marker, and go with it.
    for (const pid of processesCarrying(marker)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    throw error;
  }
  const { code, stdout, stderr } = exit;
  await waitFor(() => processesCarrying(marker).length === 0, 5000, `the processes of ${example} to be gone`);
  return { code, lines: stdout.split('\n').filter(Boolean), stderr, output: `${stdout}\n${stderr}` };
}

/** Per second printed, the lines that match `pattern` (first group: the HH:MM:SS second). */
function bySecond(lines: string[], pattern: RegExp): Map<string, string[]> {
  const seconds = new Map<string, string[]>();
  for (const line of lines) {
    const match = pattern.exec(line);
    if (match) seconds.set(match[1]!, [...(seconds.get(match[1]!) ?? []), line]);
  }
  return seconds;
}

async function expectAllGone(pids: number[]): Promise<void> {
  expect(pids.length).toBeGreaterThan(0);
  await waitFor(() => pids.every((pid) => !isAlive(pid)), 5000, `processes ${pids.join(', ')} to be gone`);
}

describe('the examples run as the README says, and stop by themselves', () => {
  it('npm start (examples/node-cluster.ts): each second is run by exactly one of 4 workers, the others not-elected', async () => {
    const { code, lines, output } = await runExample('node-cluster.ts');
    expect(code, output).toBe(0);
    const runs = bySecond(lines, /^(\d\d:\d\d:\d\d) {2}worker \d \(pid \d+\) {2}RAN the fire$/);
    const skips = bySecond(lines, /^(\d\d:\d\d:\d\d) {2}worker \d \(pid \d+\) {2}skipped: not-elected$/);
    expect(runs.size).toBeGreaterThanOrEqual(5);
    for (const [second, ran] of runs) expect(ran, second).toHaveLength(1);
    // Once all four workers are up, every second but the last (a shutdown may cut it short) was answered by all four.
    const seconds = [...runs.keys()];
    const allUp = seconds.findIndex((second) => skips.get(second)?.length === 3);
    expect(allUp, 'a second answered by all four workers').toBeGreaterThanOrEqual(0);
    const steady = seconds.slice(allUp, -1);
    expect(steady.length).toBeGreaterThanOrEqual(3);
    for (const second of steady) expect(skips.get(second), second).toHaveLength(3);
    expect(lines.at(-1)).toBe('primary: all workers gone');
    await expectAllGone([...new Set(lines.flatMap((l) => /\(pid (\d+)\)/.exec(l)?.slice(1) ?? []).map(Number))]);
  }, 40_000);

  it('examples/basic.ts: prints its fires and next runs, then shuts down with no task left', async () => {
    const { code, lines, output } = await runExample('basic.ts');
    expect(code, output).toBe(0);
    expect(lines.filter((l) => l.startsWith('tick   fired for')).length).toBeGreaterThanOrEqual(3);
    expect(lines.some((l) => l.startsWith('next ticks:'))).toBe(true);
    expect(lines.at(-1)).toBe('done; tasks left: 0');
  }, 40_000);

  it.runIf(redisUp)('examples/redis-ha.ts: 3 replicas on Redis, each second run by exactly one of them', async () => {
    const { code, lines, output } = await runExample('redis-ha.ts');
    expect(code, output).toBe(0);
    const runs = bySecond(lines, /^(\d\d:\d\d:\d\d) {2}replica \d \(pid \d+\) ran the fire$/);
    expect(runs.size).toBeGreaterThanOrEqual(4);
    for (const [second, ran] of runs) expect(ran, second).toHaveLength(1);
    expect(lines.at(-1)).toBe('all replicas stopped');
    await expectAllGone([...new Set(lines.flatMap((l) => /\(pid (\d+)\)/.exec(l)?.slice(1) ?? []).map(Number))]);
  }, 40_000);

  it('examples/redis-ha.ts with Redis unreachable: says so once, where and how to start it, exits 1, starts no replica', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const { code, lines, stderr, output } = await runExample('redis-ha.ts', { env: { REDIS_URL: url } });
    expect(code, output).toBe(1);
    expect(stderr.trim().split('\n'), output).toEqual([
      `Redis is not reachable at ${url} (connect ECONNREFUSED 127.0.0.1:${port}).`,
      expect.stringMatching(/^Start one \(redis-server, .*\) or set REDIS_URL to yours/),
    ]);
    expect(lines).toEqual([]);
  }, 40_000);

  it.runIf(postgresUp)('examples/postgres-coordinator.ts: 3 replicas on PostgreSQL, each second run by exactly one of them', async () => {
    const { host, port, user, database } = PG_CONFIG;
    const { code, lines, output } = await runExample('postgres-coordinator.ts', { env: { DATABASE_URL: `postgres://${user}@${host}:${port}/${database}` } });
    expect(code, output).toBe(0);
    const runs = bySecond(lines, /^(\d\d:\d\d:\d\d) {2}replica \d \(pid \d+\) ran the fire$/);
    expect(runs.size, output).toBeGreaterThanOrEqual(4);
    for (const [second, ran] of runs) expect(ran, second).toHaveLength(1);
    expect(lines.at(-1)).toBe('all replicas stopped');
    await expectAllGone([...new Set(lines.flatMap((l) => /\(pid (\d+)\)/.exec(l)?.slice(1) ?? []).map(Number))]);
  }, 40_000);

  it('examples/postgres-coordinator.ts with PostgreSQL unreachable: says so once, where and how to start it, exits 1', async () => {
    const port = await freePort();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const { code, lines, stderr, output } = await runExample('postgres-coordinator.ts', { env: { DATABASE_URL: url } });
    expect(code, output).toBe(1);
    expect(stderr.trim().split('\n'), output).toEqual([
      `PostgreSQL cannot be used at ${url} (connect ECONNREFUSED 127.0.0.1:${port}).`,
      expect.stringMatching(/^Start one \(docker run .*\) or set DATABASE_URL to yours/),
    ]);
    expect(lines).toEqual([]);
  }, 40_000);

  describe('npm run demo:pm2 (examples/pm2/run.ts; uses the built package: run npm run build first)', () => {
    const FIRE = /^(\d\d:\d\d:\d\d) {2}ran on (.+?) *\| skipped on (.*)$/;
    const ELECTED = /^pm_id \d+$/;
    const NOT_ELECTED = /^pm_id \d+ \(not-elected\), pm_id \d+ \(not-elected\)$/;

    /** The private PM2_HOME the demo names on its first line; the daemon and every app carry it in their environment. */
    const homeOf = (lines: string[]) => /PM2_HOME=(\S+)$/.exec(lines[0] ?? '')?.[1];

    it('prints for each fire the one instance of 3 that ran it, then kills its PM2 daemon and removes its PM2_HOME', async () => {
      expect(existsSync(join(REPO_ROOT, 'dist/pm2-arbiter.js')), 'dist/ is missing: run npm run build').toBe(true);
      const { code, lines, output } = await runExample('pm2/run.ts', { env: { DEMO_SECONDS: '6' }, timeoutMs: 60_000 });
      expect(code, output).toBe(0);
      const fires = lines.map((l) => FIRE.exec(l)).filter((fire) => fire !== null);
      expect(fires.filter(([, , ran]) => ran!.includes(',')), output).toEqual([]);
      expect(fires.filter(([, , ran, skipped]) => ELECTED.test(ran!) && NOT_ELECTED.test(skipped!)).length, output).toBeGreaterThanOrEqual(3);
      expect(lines.at(-1)).toBe('stopping: pm2 kill');
      const home = homeOf(lines);
      expect(home, output).toBeDefined();
      expect(existsSync(home!)).toBe(false);
      expect(processesCarrying(home!)).toEqual([]);
    }, 70_000);

    it('on Ctrl-C (SIGINT) it stops before its time, and tears its PM2 daemon down all the same', async () => {
      let interrupted = false;
      const { code, lines, output } = await runExample('pm2/run.ts', {
        env: { DEMO_SECONDS: '60' },
        timeoutMs: 60_000,
        onStdout: (stdout, kill) => {
          if (interrupted || !stdout.split('\n').some((l) => FIRE.test(l))) return;
          interrupted = true;
          kill('SIGINT');
        },
      });
      expect(interrupted, output).toBe(true);
      expect(code, output).toBe(0);
      expect(lines.at(-1)).toBe('stopping: pm2 kill');
      expect(existsSync(homeOf(lines)!)).toBe(false);
    }, 70_000);
  });
});
