import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PARAMS_VARIABLE } from './child-io.js';
import { track } from './cleanup.js';

const OUTPUT_KEPT = 4000;
const GRACE_MS = 3000;

/**
 * Node flags of every child: the TypeScript loader this process runs under (tsx), the `source` export condition,
 * and a callable gc() for heap figures. node:cluster workers inherit them from their primary.
 */
function childExecArgv(): string[] {
  const inherited = process.execArgv.filter((flag) => !flag.startsWith('--conditions') && flag !== '--expose-gc');
  return [...inherited, '--conditions=source', '--expose-gc'];
}

/**
 * Runs `bench/children/<script>` in a fresh process (its own heap and event loop), passing `params`, and resolves
 * with the result it sends back. Rejects with the child's output when it fails or outlives `timeoutMs`; then it is
 * asked to stop (SIGTERM, which a cluster primary forwards to its workers) and killed by pid after a grace period.
 */
export async function runChild<R>(script: string, params: unknown, timeoutMs: number): Promise<R> {
  const path = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
  const child = spawn(process.execPath, [...childExecArgv(), path], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, [PARAMS_VARIABLE]: JSON.stringify(params), FORCE_COLOR: '0' },
  });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // 'close' comes after the exit and after the IPC channel is drained, so a result sent just before exiting is in.
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('close', (code, signal) => resolve([code, signal]));
    child.once('error', reject);
  });
  const exited = closed.catch(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (!alive()) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
    await exited;
    clearTimeout(killer);
  };
  const untrack = track({ stop, kill: () => alive() && child.kill('SIGKILL') });

  let result: { value: R } | undefined;
  child.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'result' in message) result = { value: (message as { result: R }).result };
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  try {
    const outcome = await Promise.race([closed, timedOut]);
    if (outcome === 'timeout') throw new Error(`${script} did not finish within ${timeoutMs} ms`);
    const [code, signal] = outcome;
    if (result === undefined) throw new Error(`${script} exited (${signal ?? `code ${code}`}) without a result`);
    return result.value;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- ${script} output (last ${OUTPUT_KEPT} chars) ---\n${output}`);
  } finally {
    clearTimeout(timer);
    await stop();
    untrack();
  }
}
