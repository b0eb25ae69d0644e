import { acquireDaemon } from '../background/daemon-process.js';
import { fromThrown } from '../background/error-wire.js';
import { Session, type SessionOwner } from '../background/session.js';
import type { HostedOptions, LogLevel, WireContext, WireExecution } from '../background/wire.js';
import { resolveRunCoordinator } from '../coordination/default.js';
import { Authority } from '../ipc/authority.js';
import type { Execution, TaskContext, TaskEvent, TaskOptions, TaskStatus } from '../types.js';
import { unregister } from './registry.js';
import { lostFire } from './inline-task.js';
import { TaskBase } from './task-base.js';

const DEFAULT_START_TIMEOUT_MS = 5000;
/** Bound on the daemon confirming a stop or destroy (node-cron's). */
const END_TIMEOUT_MS = 5000;

interface RunInFlight {
  session: Session;
  date: Date;
  execution: Execution;
}

/**
 * A task whose function lives in a file, run by this process's background daemon. This object owns the task's
 * state and events: the daemon runs the schedule and the function and reports every event, which is re-emitted
 * here with this task as `context.task`; a distributed fire is elected by this task's own authority, which the
 * daemon asks over IPC and which holds the coordinator resolved here.
 */
export class BackgroundScheduledTask extends TaskBase implements SessionOwner {
  readonly authority: Authority | undefined;
  private status: TaskStatus = 'stopped';
  private destroyed = false;
  /**
   * The latest session, which speaks for the task's state. Once stopped it may still be finishing a run; a new
   * start() replaces it, and it then only reports the end of that run.
   */
  private session: Session | undefined;
  private starting: Promise<void> | undefined;
  private ending: 'stop' | 'destroy' | undefined;
  private isReferenced: boolean;
  private readonly inFlight = new Map<string, RunInFlight>();

  constructor(
    pattern: string,
    /** The task file, as a file URL. */
    readonly file: string,
    options: TaskOptions,
  ) {
    super(pattern, options);
    this.isReferenced = !options.unref;
    const coordinator = options.distributed ? resolveRunCoordinator(options.runCoordinator) : undefined;
    this.authority = coordinator && new Authority({ upstream: coordinator, electionTimeoutMs: options.electionTimeout, logger: this.logger });
  }

  get referenced(): boolean {
    return this.isReferenced;
  }

  /**
   * Loads the file in the daemon and starts the schedule there; rejects, naming the file, when it cannot, and the
   * task is left stopped (and registered), to be started again or destroyed.
   */
  start(): Promise<void> {
    if (this.starting) return this.starting;
    if (this.destroyed || this.started()) return Promise.resolve();
    this.starting = this.open().finally(() => (this.starting = undefined));
    return this.starting;
  }

  /**
   * Ends a task whose start failed and that nobody will start again (`schedule()`'s, whose start no caller awaits):
   * it is destroyed at once, then emits `task:failed` with the error and `task:destroyed`.
   */
  abandon(error: Error): void {
    if (this.destroyed) return;
    this.markDestroyed();
    this.emit('task:failed', Date.now(), undefined, undefined, error);
    this.emit('task:destroyed', Date.now());
  }

  /** Resolves once the daemon has stopped the schedule; a run in progress ends on its own, and is still reported. */
  async stop(): Promise<void> {
    await this.settleStart();
    if (this.destroyed) return;
    if (this.session && this.started()) await this.end(this.session, 'stop');
    else this.emit('task:stopped', Date.now());
  }

  async destroy(): Promise<void> {
    await this.settleStart();
    if (this.destroyed) return;
    const running = this.started() ? this.session : undefined;
    this.markDestroyed();
    if (running) await this.end(running, 'destroy');
    else this.emit('task:destroyed', Date.now());
  }

  getStatus(): TaskStatus {
    return this.destroyed ? 'destroyed' : this.status;
  }

  /** Runs the function now in the daemon: no election, not counted in maxExecutions; bounded by `executeTimeout`. */
  async execute(): Promise<unknown> {
    await this.settleStart();
    if (!this.session?.loaded) {
      throw new Error("Cannot execute background task because it hasn't been started yet. Please initialize the task using the start() method before attempting to execute it.");
    }
    return this.session.execute(this.options.executeTimeout);
  }

  unref(): void {
    this.isReferenced = false;
    this.session?.updateRef();
  }

  ref(): void {
    this.isReferenced = true;
    this.session?.updateRef();
  }

  onEvent(session: Session, event: TaskEvent, status: TaskStatus, wire: WireContext): void {
    const current = session === this.session;
    // A replaced session may still report the end of its last run, but no longer speaks for the task's state.
    if (!current && event.startsWith('task:')) return;
    if (current && !this.destroyed) this.setStatus(status);
    const context = this.fromWire(wire, session);
    if (event === 'execution:started' && context.execution?.reason === 'scheduled') this.runCount++;
    if (event === 'execution:finished' || event === 'execution:failed') this.settleRun(context.execution);
    if (current && event === 'task:destroyed' && !this.destroyed) this.markDestroyed();
    if (event === 'execution:missed') this.warnMissed(context.date);
    this.publish(event, context);
  }

  /** A fire this process lost upstream ran nowhere (reported through this process's authority above). */
  reportLost(slot: number, cause: string, ran: boolean): void {
    this.emit('execution:lost', slot, undefined, undefined, lostFire(this.name, slot, cause, ran));
  }

  onLog(level: LogLevel, message: unknown, detail: unknown): void {
    if (level === 'error' || level === 'debug') this.logger[level](message instanceof Error ? message : String(message), detail);
    else this.logger[level](message instanceof Error ? message.message : String(message));
  }

  onLost(session: Session, cause: Error): void {
    for (const run of this.inFlight.values()) {
      if (run.session !== session) continue;
      Object.assign(run.execution, { finishedAt: new Date(), error: cause });
      this.settleRun(run.execution);
      this.emit('execution:failed', run.date.getTime(), run.execution);
    }
    if (session !== this.session) return;
    const wasStarted = this.started();
    if (!this.destroyed) this.setStatus('stopped');
    // The daemon died before confirming a stop or destroy: the task is stopped all the same, and says so.
    if (this.ending) this.emit(this.ending === 'stop' ? 'task:stopped' : 'task:destroyed', Date.now());
    if (this.ending || !wasStarted || this.destroyed) return;
    this.logger.error(cause);
    const context = this.context(Date.now());
    context.error = cause;
    this.publish('task:failed', context);
  }

  private started(): boolean {
    return this.status === 'idle' || this.status === 'running';
  }

  private async open(): Promise<void> {
    this.session = new Session(acquireDaemon(), this);
    await this.session.load(this.file, this.pattern, this.hostedOptions(), this.options.startTimeout ?? DEFAULT_START_TIMEOUT_MS);
  }

  private async end(session: Session, how: 'stop' | 'destroy'): Promise<void> {
    this.ending = how;
    try {
      await session.end(how, END_TIMEOUT_MS);
    } finally {
      this.ending = undefined;
    }
  }

  /** Lets a start in progress finish first, so stop, destroy and execute act on its outcome. */
  private async settleStart(): Promise<void> {
    await this.starting?.catch(() => undefined);
  }

  private hostedOptions(): HostedOptions {
    const { timezone, noOverlap, distributed, distributedLease, maxRandomDelay, missedExecutionTolerance, electionTimeout } = this.options;
    // Runs already made under earlier sessions count against maxExecutions.
    return { name: this.name, timezone, noOverlap, distributed, distributedLease, maxExecutions: this.runsLeft(), maxRandomDelay, missedExecutionTolerance, electionTimeout };
  }

  private markDestroyed(): void {
    this.destroyed = true;
    this.authority?.close();
    unregister(this);
    this.setStatus('destroyed');
  }

  private setStatus(status: TaskStatus): void {
    this.status = status;
    if (status !== 'running') this.notifyIdle();
  }

  private settleRun(execution: Execution | undefined): void {
    if (!execution) return;
    this.inFlight.delete(execution.id);
    this.recordLastRun(execution);
  }

  /** The parent's context for a reported event: the same Execution object from a run's start to its end. */
  private fromWire(wire: WireContext, session: Session): TaskContext {
    const context: TaskContext = {
      date: wire.date,
      dateLocalIso: wire.dateLocalIso,
      triggeredAt: wire.triggeredAt,
      task: this,
      execution: wire.execution && this.execution(wire.execution, wire.date, session),
    };
    if (wire.reason) context.reason = wire.reason;
    if (wire.error) context.error = fromThrown(wire.error) as Error;
    return context;
  }

  private execution(wire: WireExecution, date: Date, session: Session): Execution {
    let run = this.inFlight.get(wire.id);
    if (!run) {
      run = { session, date, execution: { id: wire.id, reason: wire.reason } };
      this.inFlight.set(wire.id, run);
    }
    const { execution } = run;
    if (wire.startedAt) execution.startedAt = wire.startedAt;
    if (wire.finishedAt) execution.finishedAt = wire.finishedAt;
    if ('result' in wire) execution.result = wire.result;
    if (wire.error) execution.error = fromThrown(wire.error) as Error;
    return execution;
  }
}
