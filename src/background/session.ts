import { fileURLToPath } from 'node:url';
import { randomUUID } from '../builtins.js';
import type { Authority } from '../ipc/authority.js';
import type { TaskEvent, TaskStatus } from '../types.js';
import type { DaemonProcess, SessionEnd } from './daemon-process.js';
import { fromThrown } from './error-wire.js';
import type { HostedOptions, LogLevel, Notice, SessionId, WireContext } from './wire.js';

/** The background task a session belongs to. */
export interface SessionOwner {
  readonly authority: Authority | undefined;
  readonly referenced: boolean;
  onEvent(session: Session, event: TaskEvent, status: TaskStatus, context: WireContext): void;
  onLog(level: LogLevel, message: unknown, detail: unknown): void;
  /** The daemon died with the session open; every promise of the session is already settled. */
  onLost(session: Session, cause: Error): void;
}

interface Starting {
  resolve(): void;
  reject(error: Error): void;
}

interface PendingExecute {
  resolve(value: unknown): void;
  reject(error: unknown): void;
  timer: NodeJS.Timeout | undefined;
}

/** A stop or destroy of the session is confirmed by this event from the daemon. */
const CONFIRMS: Record<'stop' | 'destroy', TaskEvent> = { stop: 'task:stopped', destroy: 'task:destroyed' };

/**
 * One `start()` of a background task, from the parent: loading the file in the daemon, then running until stopped,
 * then released once no run of it is left in flight. Every wait is bounded and its timer cleared when it ends.
 */
export class Session implements SessionEnd {
  readonly id: SessionId = randomUUID();
  private phase: 'loading' | 'running' | 'over' = 'loading';
  private started: Starting | undefined;
  /** Callers of `end()`, by the event that confirms them. */
  private readonly endings = new Map<TaskEvent, Array<() => void>>();
  private readonly executes = new Map<string, PendingExecute>();
  private requests = 0;

  constructor(
    private readonly daemon: DaemonProcess,
    private readonly owner: SessionOwner,
  ) {
    daemon.open(this);
  }

  get authority(): Authority | undefined {
    return this.owner.authority;
  }

  /** The task is loaded in the daemon: started, or stopped and finishing its last run. */
  get loaded(): boolean {
    return this.phase === 'running';
  }

  /** An unref'ed task lets the process exit, but not while a call of it (start, stop, execute) waits for the daemon. */
  get referenced(): boolean {
    return this.owner.referenced || this.phase === 'loading' || this.executes.size > 0 || this.endings.size > 0;
  }

  /** Loads the file and starts the task; resolves once it has started, rejects when it cannot (the daemon then lets go of it). */
  load(file: string, pattern: string, options: HostedOptions, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.started = undefined;
        this.daemon.send({ op: 'stop', session: this.id });
        reject(new Error(
          `Start operation timed out after ${timeoutMs}ms. The background task file ${fileURLToPath(file)} may have failed to load or taken too long to import; ` +
            'verify it runs on its own and consider increasing the `startTimeout` option.',
        ));
      }, timeoutMs);
      this.started = {
        resolve: () => {
          clearTimeout(timer);
          this.started = undefined;
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          this.started = undefined;
          reject(error);
        },
      };
      this.daemon.send({ op: 'load', session: this.id, file, pattern, options });
    });
  }

  /** Stops or destroys the task in the daemon; resolves once the daemon confirms, or the session is over anyway. */
  end(how: 'stop' | 'destroy', timeoutMs: number): Promise<void> {
    const event = CONFIRMS[how];
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.forget(event, confirmed);
        reject(new Error(`${how === 'stop' ? 'Stop' : 'Destroy'} operation timed out after ${timeoutMs}ms: the background daemon did not answer`));
      }, timeoutMs);
      const confirmed = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.endings.set(event, [...(this.endings.get(event) ?? []), confirmed]);
      this.daemon.updateRef();
      this.daemon.send({ op: how, session: this.id });
    });
  }

  /** Runs the task now in the daemon; `timeoutMs` bounds the wait, not the run. */
  execute(timeoutMs: number | undefined): Promise<unknown> {
    const request = (++this.requests).toString(36);
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.executes.delete(request);
        this.daemon.updateRef();
        reject(new Error('Execution timeout exceeded'));
      }, timeoutMs);
      this.executes.set(request, { resolve, reject, timer });
      this.daemon.updateRef();
      this.daemon.send({ op: 'execute', session: this.id, request });
    });
  }

  updateRef(): void {
    this.daemon.updateRef();
  }

  receive(notice: Exclude<Notice, { op: 'fatal' }>): void {
    switch (notice.op) {
      case 'event':
        if (notice.event === 'task:started' && this.phase === 'loading') this.phase = 'running';
        this.owner.onEvent(this, notice.event, notice.status, notice.context);
        if (notice.event === 'task:started') this.started?.resolve();
        this.confirm(notice.event);
        return;
      case 'log':
        this.owner.onLog(notice.level, fromThrown(notice.message), notice.detail && fromThrown(notice.detail));
        return;
      case 'load-failed':
        this.phase = 'over';
        this.started?.reject(fromThrown(notice.error) as Error);
        return;
      case 'executed': {
        const pending = this.executes.get(notice.request);
        if (!pending) return;
        this.executes.delete(notice.request);
        clearTimeout(pending.timer);
        if ('result' in notice.outcome) pending.resolve(notice.outcome.result);
        else pending.reject(fromThrown(notice.outcome.error));
        return;
      }
      case 'released':
        this.phase = 'over';
        this.confirmAll();
    }
  }

  lost(cause: Error): void {
    this.phase = 'over';
    this.started?.reject(cause);
    for (const pending of this.executes.values()) {
      clearTimeout(pending.timer);
      pending.reject(cause);
    }
    this.executes.clear();
    this.owner.onLost(this, cause);
    this.confirmAll();
  }

  private confirm(event: TaskEvent): void {
    const waiters = this.endings.get(event);
    this.endings.delete(event);
    for (const confirmed of waiters ?? []) confirmed();
  }

  private confirmAll(): void {
    for (const event of [...this.endings.keys()]) this.confirm(event);
  }

  private forget(event: TaskEvent, confirmed: () => void): void {
    const waiters = this.endings.get(event)?.filter((w) => w !== confirmed) ?? [];
    if (waiters.length > 0) this.endings.set(event, waiters);
    else this.endings.delete(event);
    this.daemon.updateRef();
  }
}
