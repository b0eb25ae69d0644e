import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Node flags that run TypeScript (tsx, found from any working directory); in the repository tsx resolves `fleetcron`
 * to src/ (the `paths` of tsconfig.json).
 */
export const TS_NODE_ARGS = [`--import=${pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href}`];

/** One JSON line a fixture process printed as `{"fleetcron-test": {...}}`. */
export type Report = Record<string, unknown> & { type: string };

const MARK = '{"fleetcron-test":';

/** Prints a report line for the test that started this process (fixtures call it). */
export function report(value: Report): void {
  process.stdout.write(`${JSON.stringify({ 'fleetcron-test': value })}\n`);
}

/** A TypeScript fixture running as a real process, with its reports collected. */
export class Fixture {
  readonly reports: Report[] = [];
  output = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(script: string, env: NodeJS.ProcessEnv = {}) {
    const path = fileURLToPath(new URL(`../fixtures/${script}`, import.meta.url));
    this.child = spawn(process.execPath, [...TS_NODE_ARGS, path], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FORCE_COLOR: '0', ...env },
    });
    this.exited = once(this.child, 'exit').then(() => undefined);
    let pending = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) this.take(line);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  of(type: string): Report[] {
    return this.reports.filter((r) => r.type === type);
  }

  /** Waits until `condition` holds over the reports, failing with the process output after `timeoutMs`. */
  async until(condition: (reports: Report[]) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition(this.reports)) {
      if (!this.alive) throw new Error(`fixture exited while waiting for ${what}\n${this.output.slice(-4000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}\n${this.output.slice(-4000)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => (clearTimeout(timer), resolve()));
      });
    }
  }

  /** Asks the process to stop (SIGTERM), then kills it after `graceMs`; resolves when it has exited. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async exit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    await this.exited;
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }

  private take(line: string): void {
    if (!line.startsWith(MARK)) {
      this.output += `${line}\n`;
      return;
    }
    this.reports.push((JSON.parse(line) as { 'fleetcron-test': Report })['fleetcron-test']);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Fire instants (the `slot` of `run` reports) with how many runs each got: the exactly-once check of many tests. */
export function runsPerSlot(reports: Report[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of reports) if (r.type === 'run') counts.set(r.slot as string, (counts.get(r.slot as string) ?? 0) + 1);
  return counts;
}

/** True while a process with this pid exists (EPERM: it exists, but is not ours to signal). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Sees the output so far at each chunk, and may signal the process. */
  onStdout?: (stdout: string, kill: (signal: NodeJS.Signals) => void) => void;
}

/**
 * Runs a TypeScript script with TS_NODE_ARGS until it exits by itself. One still running after `timeoutMs` is
 * killed, and the promise rejects with its output.
 */
export function runToExit(script: string, { timeoutMs, env, cwd, onStdout }: RunOptions): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...TS_NODE_ARGS, script], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, (signal) => child.kill(signal));
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
