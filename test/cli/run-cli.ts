import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { TS_NODE_ARGS } from '../support/processes.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `fleetcron ...args` from the sources as a real process, with none of the backend variables of this one (so
 * a developer's REDIS_URL never chooses the backend) but those in `env`. Rejects when it has not exited within
 * `timeoutMs`: the command must close its connections and end by itself.
 */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000): Promise<CliRun> {
  const inherited = { ...process.env };
  for (const name of ['REDIS_URL', 'DATABASE_URL', 'FLEETCRON_REDIS_PREFIX']) delete inherited[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, MAIN, ...args], { cwd: REPO, env: { ...inherited, FORCE_COLOR: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fleetcron ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the JSON a `--json` run printed, failing with its output when it did not succeed. */
export function jsonOf<T>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`exit ${run.code}\n${run.stdout}\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}
