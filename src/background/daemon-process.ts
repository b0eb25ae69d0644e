import type { ChildProcess } from 'node:child_process';
import { childProcesses } from '../builtins.js';
import type { Authority } from '../ipc/authority.js';
import { AUTHORITY_MARKER, TOPOLOGY_OVERRIDE } from '../ipc/topology.js';
import { serveChild } from '../ipc/transports/child.js';
import { processWide } from '../process-state.js';
import { daemonExecArgv } from './daemon-exec-argv.js';
import { daemonFile } from './daemon-path.js';
import { fromThrown } from './error-wire.js';
import { daemonMessage, openNotice, type Command, type Notice, type SessionId } from './wire.js';

/** The parent's side of one session: what the daemon reports about it, and how it is elected. */
export interface SessionEnd {
  readonly id: SessionId;
  readonly authority: Authority | undefined;
  /** Whether this session keeps the process alive (a started task that is not unref'ed, or one still loading). */
  readonly referenced: boolean;
  receive(notice: Exclude<Notice, { op: 'fatal' }>): void;
  /** The daemon is gone with this session still open. */
  lost(cause: Error): void;
}

/** How long `close()` lets a daemon exit on its own before it is killed. */
const CLOSE_GRACE_MS = 2000;

/** Every daemon of this process not yet exited, and the one new sessions go to. */
const daemons = processWide('daemons', (): { live: Set<DaemonProcess>; current?: DaemonProcess } => ({ live: new Set() }));

/**
 * The daemon that hosts this process's background tasks: one for all of them, forked on first use and closed
 * when its last session is released.
 */
export function acquireDaemon(): DaemonProcess {
  if (!daemons.current?.accepting) daemons.current = new DaemonProcess();
  return daemons.current;
}

/**
 * Ends every daemon of this process: each closes on its own once its last session is released (runs of stopped
 * tasks finished); whatever is left after `waitMs` is closed, and killed if it does not exit in time.
 */
export async function closeDaemons(waitMs: number): Promise<void> {
  await Promise.all([...daemons.live].map(async (daemon) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([daemon.exited, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    await daemon.close(CLOSE_GRACE_MS);
  }));
}

export class DaemonProcess {
  private readonly child: ChildProcess;
  private readonly sessions = new Map<SessionId, SessionEnd>();
  private readonly stopServing: () => void;
  readonly exited: Promise<void>;
  private markExited!: () => void;
  private closing = false;
  private gone = false;
  private fatal: unknown;

  constructor() {
    const env: NodeJS.ProcessEnv = { ...process.env, [AUTHORITY_MARKER]: `parent:${process.pid}` };
    delete env[TOPOLOGY_OVERRIDE];
    // `advanced` keeps dates, maps, typed arrays and undefined in results; election messages are plain objects either way.
    this.child = childProcesses().fork(daemonFile(), [], { env, serialization: 'advanced', execArgv: daemonExecArgv(process.execArgv) });
    daemons.live.add(this);
    this.stopServing = serveChild(this.child, (route) => this.sessions.get(route)?.authority);
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    this.child.once('exit', (code, signal) => this.end(this.exitCause(code, signal)));
    this.child.on('error', (error) => {
      // Spawning failed: no 'exit' follows. Other errors (a failed kill) change nothing here.
      if (this.child.pid === undefined) this.end(new Error(`fleetcron: could not start the background daemon: ${error.message}`, { cause: error }));
    });
    this.child.on('message', this.onMessage);
    this.updateRef();
  }

  get accepting(): boolean {
    return !this.closing && !this.gone;
  }

  open(session: SessionEnd): void {
    this.sessions.set(session.id, session);
    this.updateRef();
  }

  /** Sends a command; a daemon that cannot take it any more reports through `lost`, from its exit. */
  send(command: Command): void {
    if (this.child.connected) this.child.send(daemonMessage(command), () => undefined);
  }

  updateRef(): void {
    const referenced = [...this.sessions.values()].some((session) => session.referenced);
    if (referenced) {
      this.child.ref();
      this.child.channel?.ref();
    } else {
      this.child.unref();
      this.child.channel?.unref();
    }
  }

  /** Lets the daemon exit (it does once its channel closes), killing it after `graceMs`. */
  async close(graceMs: number): Promise<void> {
    this.closing = true;
    if (this.child.connected) this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  private readonly onMessage = (message: unknown): void => {
    const notice = openNotice(message);
    if (!notice) return;
    if (notice.op === 'fatal') {
      this.fatal = fromThrown(notice.error);
      return;
    }
    const session = this.sessions.get(notice.session);
    if (!session) return;
    if (notice.op === 'released' || notice.op === 'load-failed') this.sessions.delete(notice.session);
    session.receive(notice);
    if (this.sessions.size === 0) void this.close(CLOSE_GRACE_MS);
    else this.updateRef();
  };

  private end(cause: Error): void {
    if (this.gone) return;
    this.gone = true;
    daemons.live.delete(this);
    if (daemons.current === this) daemons.current = undefined;
    this.stopServing();
    this.child.off('message', this.onMessage);
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    for (const session of sessions) session.lost(cause);
    this.markExited();
  }

  private exitCause(code: number | null, signal: NodeJS.Signals | null): Error {
    const pid = this.child.pid;
    let how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    if (this.closing) how += ' while closing';
    else if (signal === 'SIGABRT') how += ' (a fatal V8 error, such as running out of heap memory; see its stderr)';
    const uncaught = this.fatal;
    const error = new Error(
      `fleetcron background daemon (pid ${pid}) ${how}${uncaught instanceof Error ? `: uncaught ${uncaught.name}: ${uncaught.message}` : ''}`,
      uncaught === undefined ? undefined : { cause: uncaught },
    );
    return Object.assign(error, { code: 'ERR_FLEETCRON_DAEMON_EXIT', pid, exitCode: code, signal });
  }
}
