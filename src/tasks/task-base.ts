import { randomUUID } from '../builtins.js';
import { globalLogger } from '../logger.js';
import { observeEvent, observing } from '../observers.js';
import { CronSchedule } from '../time/cron-schedule.js';
import type {
  Execution, LastRun, Logger, SkipReason, TaskContext, TaskEvent, TaskListener, TaskOptions, TaskStatus,
} from '../types.js';
import { createContext } from './context.js';
import { TaskEmitter } from './emitter.js';
import type { ManagedTask } from './managed-task.js';

/**
 * What inline and background tasks share: identity, the schedule and what can be asked of it, listeners, the run
 * count and the last run. Subclasses decide where the function runs and how the task moves through its states.
 */
export abstract class TaskBase implements ManagedTask {
  readonly id = flatUuid();
  readonly name: string;
  readonly timezone: string | undefined;
  readonly cronExpression: string;
  protected readonly schedule: CronSchedule;
  protected readonly emitter: TaskEmitter;
  protected readonly logger: Logger;
  /** Scheduled runs started so far, successful or not: what maxExecutions counts. */
  protected runCount = 0;
  protected last: LastRun | null = null;
  private idleWaiters: Array<() => void> = [];

  constructor(
    protected readonly pattern: string,
    protected readonly options: TaskOptions,
  ) {
    this.name = options.name ?? this.id;
    this.timezone = options.timezone;
    this.cronExpression = pattern;
    this.logger = options.logger ?? globalLogger;
    this.schedule = CronSchedule.of(pattern, options.timezone);
    if (this.schedule.next(Date.now()) === null) {
      throw new Error(`"${pattern}" never fires: no date matches it within the next 100 years`);
    }
    this.emitter = new TaskEmitter((error) => this.logger.error(error instanceof Error ? error : String(error)));
  }

  abstract start(): void | Promise<void>;
  abstract stop(): void | Promise<void>;
  abstract destroy(): void | Promise<void>;
  abstract getStatus(): TaskStatus;
  abstract execute(): Promise<unknown>;
  abstract ref(): void;
  abstract unref(): void;

  getNextRun(): Date | null {
    const status = this.getStatus();
    if (status !== 'idle' && status !== 'running') return null;
    const next = this.schedule.next(Date.now());
    return next === null ? null : new Date(next);
  }

  getNextRuns(count: number, from: Date = new Date()): Date[] {
    return this.schedule.nextRuns(count, from.getTime()).map((ms) => new Date(ms));
  }

  match(date: Date): boolean {
    return this.schedule.matches(date.getTime());
  }

  msToNext(): number | null {
    const next = this.getNextRun();
    return next === null ? null : next.getTime() - Date.now();
  }

  isBusy(): boolean {
    return this.getStatus() === 'running';
  }

  runsLeft(): number | undefined {
    const max = this.options.maxExecutions;
    return max === undefined ? undefined : Math.max(0, max - this.runCount);
  }

  getPattern(): string {
    return this.pattern;
  }

  lastRun(): LastRun | null {
    return this.last;
  }

  on(event: TaskEvent, listener: TaskListener): void {
    this.emitter.on(event, listener);
  }

  off(event: TaskEvent, listener: TaskListener): void {
    this.emitter.off(event, listener);
  }

  once(event: TaskEvent, listener: TaskListener): void {
    this.emitter.once(event, listener);
  }

  whenIdle(): Promise<void> {
    if (!this.isBusy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Subclasses call this when no scheduled run is executing any more. */
  protected notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Records how a run ended as `lastRun()`. */
  protected recordLastRun(execution: Execution): void {
    const date = execution.finishedAt ?? new Date();
    this.last = 'error' in execution ? { date, error: execution.error } : { date, result: execution.result };
  }

  /** node-cron's warning for a missed fire, unless suppressed or somebody listens for `execution:missed`. */
  protected warnMissed(date: Date): void {
    if (this.options.suppressMissedWarning || this.emitter.listenerCount('execution:missed') > 0) return;
    this.logger.warn(`missed execution at ${date}! Possible blocking IO or high CPU user at the same process used by fleetcron.`);
  }

  /** Emits `event` with a context for `date`, built only when someone (a listener, an observer) will receive it. */
  protected emit(event: TaskEvent, date: number, execution?: Execution, reason?: SkipReason, error?: Error): void {
    const observed = observing();
    if (!observed && !this.emitter.wants(event)) return;
    const context = this.context(date, execution, reason, error);
    if (observed) observeEvent(this.name, event, context);
    if (this.emitter.wants(event)) this.emitter.emit(event, context);
  }

  /** Emits an event whose context is already made, now or (`later`) on the next microtask; observers see it now. */
  protected publish(event: TaskEvent, context: TaskContext, later = false): void {
    if (observing()) observeEvent(this.name, event, context);
    if (later) this.emitter.emitLater(event, context);
    else this.emitter.emit(event, context);
  }

  protected context(date: number, execution?: Execution, reason?: SkipReason, error?: Error): TaskContext {
    return createContext(this, this.options.timezone, date, execution, reason, error);
  }
}

/**
 * A random UUID as a flat string. Node 20 builds `randomUUID()` by concatenation, and V8 keeps every piece of it
 * (about 480 bytes) until the string is first read; reading it once leaves the flat 36 characters. With a task
 * costing about 1.3 KB in all, that is a third of its memory.
 */
function flatUuid(): string {
  const id = randomUUID();
  id.charCodeAt(0);
  return id;
}
