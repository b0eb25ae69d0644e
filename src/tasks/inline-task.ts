import { randomUUID } from 'node:crypto';
import { resolveRunCoordinator } from '../coordination/default.js';
import { complete, elect } from '../coordination/election.js';
import { defaultElectionTimeout, planFire } from '../engine/plan.js';
import { timerQueue, type QueueEntry } from '../engine/timer-queue.js';
import type { Execution, RunCoordinator, SkipReason, TaskFn, TaskOptions, TaskStatus } from '../types.js';
import { CancellableWait } from './cancellable-wait.js';
import { unregister } from './registry.js';
import { TaskBase } from './task-base.js';

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_MISSED_TOLERANCE_MS = 1_000;

/** A task whose function runs in this process, woken by the shared timer queue. */
export class InlineScheduledTask extends TaskBase implements QueueEntry {
  private readonly coordinator: RunCoordinator | undefined;
  private started = false;
  private destroyed = false;
  /** The next planned fire while started. */
  private expected: number | null = null;
  /** Scheduled fires between the overlap check and their end (election included). */
  private inFlight = 0;
  /** Scheduled runs of the function in progress; the task is `running` while this is above zero. */
  private executing = 0;
  private referenced: boolean;
  private readonly jitterWaits = new Set<CancellableWait>();

  constructor(
    pattern: string,
    private readonly fn: TaskFn,
    options: TaskOptions,
  ) {
    super(pattern, options);
    this.referenced = !options.unref;
    this.coordinator = options.distributed ? resolveRunCoordinator(options.runCoordinator) : undefined;
  }

  start(): void {
    if (this.destroyed || this.started) return;
    const now = Date.now();
    this.started = true;
    this.expected = this.schedule.next(now);
    if (this.expected !== null) timerQueue.add(this, this.expected, this.referenced);
    // Delivered on the next microtask, so listeners attached right after schedule() see it.
    this.emitter.emitLater('task:started', this.context(now));
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.expected = null;
    timerQueue.remove(this);
    for (const wait of this.jitterWaits) wait.cancel();
    this.emit('task:stopped', Date.now());
  }

  destroy(): void {
    if (this.destroyed) return;
    this.stop();
    this.destroyed = true;
    unregister(this);
    this.emit('task:destroyed', Date.now());
  }

  getStatus(): TaskStatus {
    if (this.destroyed) return 'destroyed';
    if (!this.started) return 'stopped';
    return this.executing > 0 ? 'running' : 'idle';
  }

  /** Runs the function now, outside the schedule: no election, no overlap check, not counted in maxExecutions. */
  async execute(): Promise<unknown> {
    const execution: Execution = { id: randomUUID(), reason: 'invoked' };
    await this.invoke(Date.now(), execution);
    if ('error' in execution) throw execution.error;
    return execution.result;
  }

  unref(): void {
    this.setReferenced(false);
  }

  ref(): void {
    this.setReferenced(true);
  }

  /** Called by the timer queue once the planned fire is due. */
  fire(now: number): void {
    if (!this.started || this.expected === null) return;
    const plan = planFire(this.expected, now, this.options.missedExecutionTolerance ?? DEFAULT_MISSED_TOLERANCE_MS, (ms) =>
      this.schedule.next(ms),
    );
    for (const slot of plan.missed) this.reportMissed(slot);
    if (plan.truncated) this.logger.warn(`task ${this.name}: more fires were missed than reported; the oldest were dropped`);
    this.expected = plan.next;
    if (plan.next !== null) timerQueue.add(this, plan.next, this.referenced);
    if (plan.run !== undefined) this.launch(plan.run, plan.next);
  }

  private launch(slot: number, next: number | null): void {
    if (this.inFlight > 0) {
      this.emit('execution:overlap', slot);
      if (this.options.noOverlap) {
        this.logger.warn('task still running, new execution blocked by overlap prevention!');
        return;
      }
    }
    this.inFlight++;
    // With no election and no random delay there is nothing to wait for: the function starts in this very timer
    // callback, rather than after every other fire due at the same instant has been planned.
    const run = this.coordinator || this.options.maxRandomDelay ? this.runFire(slot, next) : this.runUncoordinated(slot);
    void run.finally(() => this.inFlight--);
  }

  private async runUncoordinated(slot: number): Promise<void> {
    if (!this.limitReached()) await this.runScheduled(slot);
  }

  /** The election path of one fire: election, jitter, run, completion. */
  private async runFire(slot: number, next: number | null): Promise<void> {
    const coordinator = this.coordinator;
    const key = `${this.name}:${new Date(slot).toISOString()}`;
    const timeout = this.options.electionTimeout ?? defaultElectionTimeout(slot, next);
    if (coordinator) {
      const election = await elect(coordinator, key, this.options.distributedLease ?? DEFAULT_LEASE_MS, timeout, this.logger);
      if (!election.elected) {
        this.skip(slot, election.reason);
        return;
      }
    }
    try {
      if ((await this.jitter()) && this.started && !this.limitReached()) await this.runScheduled(slot);
    } finally {
      if (coordinator) await complete(coordinator, key, timeout, this.logger);
    }
  }

  private skip(slot: number, reason: SkipReason): void {
    if (this.started) this.emit('execution:skipped', slot, undefined, reason);
  }

  /** Waits the random delay, if any; false when the task was stopped meanwhile. */
  private async jitter(): Promise<boolean> {
    const delay = Math.floor(Math.random() * (this.options.maxRandomDelay ?? 0));
    if (delay <= 0) return true;
    const wait = new CancellableWait(delay, this.referenced);
    this.jitterWaits.add(wait);
    try {
      return await wait.done;
    } finally {
      this.jitterWaits.delete(wait);
    }
  }

  private limitReached(): boolean {
    const max = this.options.maxExecutions;
    return max !== undefined && this.runCount >= max;
  }

  private async runScheduled(slot: number): Promise<void> {
    this.runCount++;
    const lastOne = this.limitReached();
    if (lastOne) {
      // No further fire is planned once the last allowed run has started.
      this.expected = null;
      timerQueue.remove(this);
    }
    this.executing++;
    await this.invoke(slot, { id: randomUUID(), reason: 'scheduled' }, () => this.settleRun());
    if (lastOne) {
      this.emit('execution:maxReached', slot);
      this.destroy();
    }
  }

  private settleRun(): void {
    if (--this.executing === 0) this.notifyIdle();
  }

  /** Runs the function once and reports it; `beforeReport` runs between the end of the run and its events. */
  private async invoke(date: number, execution: Execution, beforeReport?: () => void): Promise<void> {
    execution.startedAt = new Date();
    this.emit('execution:started', date, execution);
    try {
      execution.result = await this.fn(this.context(date, execution));
      execution.finishedAt = new Date();
      this.recordLastRun(execution);
      beforeReport?.();
      this.emit('execution:finished', date, execution);
    } catch (error) {
      execution.finishedAt = new Date();
      execution.error = error as Error;
      this.recordLastRun(execution);
      beforeReport?.();
      this.logger.error(error instanceof Error ? error : String(error));
      this.emit('execution:failed', date, execution);
    }
  }

  private reportMissed(slot: number): void {
    this.warnMissed(new Date(slot));
    this.emit('execution:missed', slot);
  }

  private setReferenced(referenced: boolean): void {
    this.referenced = referenced;
    timerQueue.setRef(this, referenced);
    for (const wait of this.jitterWaits) wait.setRef(referenced);
  }
}
