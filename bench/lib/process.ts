import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { track } from './cleanup.js';

const OUTPUT_KEPT = 4000;
const GRACE_MS = 3000;

/** The pids of the processes below `pid` (children, then theirs), from Linux /proc; none once it is gone. */
export function descendants(pid: number): number[] {
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** SIGKILL to each of `pids` still there: what a bench process left behind. Returns how many there were. */
export function killLeftovers(pids: readonly number[]): number {
  let killed = 0;
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
      killed++;
    } catch {
      // Gone already.
    }
  }
  return killed;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TrackedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Resolves once it has exited and its stdio (and IPC channel) is drained. */
  readonly closed: Promise<Exit>;
  /** `closed`, or 'timeout' once `timeoutMs` have passed before it. */
  closedWithin(timeoutMs: number): Promise<Exit | 'timeout'>;
  alive(): boolean;
  /** The last characters it wrote to stdout and stderr, for error messages. */
  output(): string;
  /**
   * SIGTERM, then SIGKILL after a grace period; once it is gone, SIGKILL to whatever was running below it when asked
   * to stop. Resolves when it has exited; a no-op once it has.
   */
  stop(): Promise<void>;
}

export interface StartOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** An IPC channel to the process (fd 3), for `send` and 'message'. */
  ipc?: boolean;
  /** Each chunk of stdout as it comes (it is kept for output() too). */
  onStdout?: (chunk: string) => void;
}

/**
 * Starts `node <args>` registered with the cleanup, so that an error or Ctrl-C stops it, and the processes it
 * started, by pid. The registration ends when it has exited.
 */
export function startNode(args: readonly string[], { env, cwd, ipc = false, onStdout }: StartOptions): TrackedProcess {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])], env, ...(cwd ? { cwd } : {}) });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-OUTPUT_KEPT));
  child.stdout!.on('data', (chunk: Buffer) => {
    keep(chunk);
    onStdout?.(chunk.toString());
  });
  child.stderr!.on('data', keep);
  // 'close' comes after the exit and after the IPC channel is drained, so a result sent just before exiting is in.
  const closed = new Promise<Exit>((resolve, reject) => {
    child.once('close', (code, signal) => resolve({ code, signal }));
    child.once('error', reject);
  });
  const settled = closed.catch(() => undefined);
  const alive = () => child.exitCode === null && child.signalCode === null && child.pid !== undefined;
  const stop = async () => {
    if (!alive()) return;
    const below = descendants(child.pid!);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), GRACE_MS);
    await settled;
    clearTimeout(killer);
    killLeftovers(below);
  };
  const untrack = track({
    stop,
    kill: () => {
      if (alive()) killLeftovers([...descendants(child.pid!), child.pid!]);
    },
  });
  void settled.then(untrack);
  const closedWithin = async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      return await Promise.race([closed, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
  return { child, pid: child.pid ?? -1, closed, closedWithin, alive, output: () => output, stop };
}
