import { fileURLToPath } from 'node:url';
import { PARAMS_VARIABLE } from './child-io.js';
import { startNode } from './process.js';

/**
 * Node flags of every child: the TypeScript loader this process runs under (tsx, which resolves `fleetcron` to src/
 * through the `paths` of tsconfig.json), and a callable gc() for heap figures. node:cluster workers inherit them from
 * their primary.
 */
function childExecArgv(): string[] {
  const inherited = process.execArgv.filter((flag) => flag !== '--expose-gc');
  return [...inherited, '--expose-gc'];
}

/**
 * Runs `bench/children/<script>` in a fresh process (its own heap and event loop), passing `params`, and resolves
 * with the result it sends back. Rejects with the child's output when it fails or outlives `timeoutMs`; then it is
 * asked to stop (SIGTERM, which a cluster primary forwards to its workers), killed by pid after a grace period, and
 * so is whatever it had started.
 */
export async function runChild<R>(script: string, params: unknown, timeoutMs: number): Promise<R> {
  const path = fileURLToPath(new URL(`../children/${script}`, import.meta.url));
  const child = startNode([...childExecArgv(), path], {
    env: { ...process.env, [PARAMS_VARIABLE]: JSON.stringify(params), FORCE_COLOR: '0' },
    ipc: true,
  });
  let result: { value: R } | undefined;
  child.child.on('message', (message: unknown) => {
    if (typeof message === 'object' && message !== null && 'result' in message) result = { value: (message as { result: R }).result };
  });
  try {
    const outcome = await child.closedWithin(timeoutMs);
    if (outcome === 'timeout') throw new Error(`${script} did not finish within ${timeoutMs} ms`);
    if (result === undefined) throw new Error(`${script} exited (${outcome.signal ?? `code ${outcome.code}`}) without a result`);
    return result.value;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- ${script} output (last characters) ---\n${child.output()}`);
  } finally {
    await child.stop();
  }
}
