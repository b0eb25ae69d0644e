import { randomUUID } from '../builtins.js';
import { resolveRunCoordinator } from '../coordination/default.js';
import { callBounded } from '../coordination/bounded.js';
import { complete, elect, type Election } from '../coordination/election.js';
import { COMPLETIONS, ELECTIONS, OutageLog } from '../coordination/outage-log.js';
import type { FireOutcome } from '../coordination/records/fire-record.js';
import { isTracking, type FirePolicy, type TrackingCoordinator } from '../coordination/tracking.js';
import { defaultElectionTimeout, latestFireWithin, planFire } from '../engine/plan.js';
import { timerQueue, type QueueEntry } from '../engine/timer-queue.js';
import { slotOfKey, type Notice } from '../ipc/protocol.js';
import { observeElection, observing } from '../observers.js';
import type { Execution, RunCoordinator, TaskFn, TaskOptions, TaskStatus } from '../types.js';
import { CancellableWait } from './cancellable-wait.js';
import { OwedCatchUp, type Coordination } from './catch-up.js';
import { unregister } from './registry.js';
import { TaskBase } from './task-base.js';

const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_MISSED_TOLERANCE_MS = 1_000;
/** The authority answers this much before the task stops waiting, so its answer is not lost in transit. */
const ANSWER_MARGIN_MS = 100;
const COORDINATED: Coordination = { coordinated: true };
/** How often a fire waiting its turn (`overlap: 'buffer-one'`) asks again. */
const TURN_POLL_MS = 500;

/** A task whose function runs in this process, woken by the shared timer queue. */
export class InlineScheduledTask extends TaskBase implements QueueEntry {
  private readonly coordinator: RunCoordinator | undefined;
  /** The fleet-wide policies each claim of this task carries, if any. */
  private readonly policy: FirePolicy | undefined;
  /** With `catchUp`: the fire an outage of the coordinator left unrun, tried again while within the window. */
  private readonly owedCatchUp: OwedCatchUp | undefined;
  private started = false;
  private destroyed = false;
  /** Whether this task is counted among its coordinator's hearers of triggers. */
  private hearing = false;
  /** The next planned fire while started. */
  private expected: number | null = null;
  /** Scheduled fires between the overlap check and their end (election included). */
  private inFlight = 0;
  /** Scheduled runs of the function in progress; the task is `running` while this is above zero. */
  private executing = 0;
  private referenced: boolean;
  private readonly waits = new Set<CancellableWait>();
  /** Runs in progress, each with the signal its function got. */
  private readonly running = new Set<Run>();
  /** Made on the first failure: most tasks never have an outage to log. */
  private electionOutage: OutageLog | undefined;
  private completionOutage: OutageLog | undefined;

  constructor(
    pattern: string,
    private readonly fn: TaskFn,
    options: TaskOptions,
  ) {
    super(pattern, options);
    this.referenced = !options.unref;
    this.coordinator = options.distributed ? resolveRunCoordinator(options.runCoordinator) : undefined;
    const { overlap, fleetMaxExecutions } = options;
    const fleetOverlap = overlap === 'skip' || overlap === 'buffer-one' ? overlap : undefined;
    if (fleetOverlap || fleetMaxExecutions !== undefined) {
      this.policy = { ...(fleetOverlap ? { overlap: fleetOverlap } : {}), ...(fleetMaxExecutions !== undefined ? { fleetMax: fleetMaxExecutions } : {}) };
    }
    if (this.coordinator && options.catchUp !== undefined) {
      const window = options.catchUp;
      this.owedCatchUp = new OwedCatchUp(
        window,
        (slot) => this.runCatchUp(slot),
        (slot, error) =>
          this.logger.warn(`task ${this.name}: fire ${new Date(slot).toISOString()} was not caught up: the coordinator was not reachable again within the catchUp window (${window} ms): ${describeError(error)}`),
        () => this.referenced,
      );
    }
  }

  start(): void {
    if (this.destroyed || this.started) return;
    const now = Date.now();
    this.started = true;
    this.expected = this.schedule.next(now);
    if (this.expected !== null) timerQueue.add(this, this.expected, this.referenced);
    // Delivered on the next microtask, so listeners attached right after schedule() see it.
    this.publish('task:started', this.context(now), true);
    this.hearTriggers();
    if (this.owedCatchUp) this.catchUpAtStart(now);
  }

  /**
   * A fire within the tolerance before the start runs late, as the fire of the schedule that the processes whose
   * clocks are behind this one's run on time; the catch-up is the fire before it, so the same fire on every host.
   */
  private catchUpAtStart(now: number): void {
    const late = this.schedule.next(now - this.tolerance() - 1);
    const recent = late !== null && late <= now ? late : undefined;
    if (recent !== undefined) this.launch(recent, this.expected, 'late');
    this.catchUp(recent ?? now);
  }

  private tolerance(): number {
    return this.options.missedExecutionTolerance ?? DEFAULT_MISSED_TOLERANCE_MS;
  }

  /** A started, referenced task hears its authority's triggers (which keeps the IPC channel listened to). */
  private hearTriggers(): void {
    const want = this.started && this.referenced;
    if (want === this.hearing || !this.coordinator || !isTracking(this.coordinator)) return;
    this.hearing = want;
    this.coordinator.hearTriggers(want);
  }

  /** A fire asked for by `trigger()` somewhere in the fleet: claimed like any fire, run with `ctx.triggered`. */
  private runTriggered(slot: number): void {
    if (this.started) this.launch(slot, this.expected, 'triggered');
  }

  /**
   * The latest fire of the catch-up window runs now, if the fleet's records have nobody claiming it. When its
   * coordinator cannot be reached yet, it is owed, and tried again until the window has passed.
   */
  private catchUp(before: number): void {
    const window = this.options.catchUp;
    const slot = window === undefined || !this.owedCatchUp ? undefined : latestFireWithin(window, before, (ms) => this.schedule.next(ms));
    if (slot === undefined) return;
    void this.runCatchUp(slot).then((outcome) => {
      if (outcome.coordinated || !this.started) return;
      this.logger.warn(
        `task ${this.name}: the catch-up of fire ${new Date(slot).toISOString()} could not be coordinated (${describeError(outcome.error)}); ` +
          `tried again every ${this.owedCatchUp!.retryMs} ms within the catchUp window`,
      );
      this.owedCatchUp!.owe(slot, outcome.error, Date.now());
    });
  }

  private async runCatchUp(slot: number): Promise<Coordination> {
    this.inFlight++;
    try {
      return await this.runFire(slot, this.expected, 'catch-up');
    } finally {
      this.inFlight--;
    }
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    this.expected = null;
    timerQueue.remove(this);
    this.owedCatchUp?.cancel();
    this.hearTriggers();
    for (const wait of this.waits) wait.cancel();
    this.emit('task:stopped', Date.now());
  }

  destroy(): void {
    if (this.destroyed) return;
    this.stop();
    this.destroyed = true;
    unregister(this);
    for (const run of this.running) run.abort(new Error(`task ${this.name} was destroyed during the run (shutdown() past its timeout, or destroy())`));
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
    const plan = planFire(this.expected, now, this.tolerance(), (ms) =>
      this.schedule.next(ms),
    );
    for (const slot of plan.missed) this.reportMissed(slot);
    if (plan.truncated) this.logger.warn(`task ${this.name}: more fires were missed than reported; the oldest were dropped`);
    this.expected = plan.next;
    if (plan.next !== null) timerQueue.add(this, plan.next, this.referenced);
    if (plan.run !== undefined) this.launch(plan.run, plan.next);
  }

  private launch(slot: number, next: number | null, kind: FireKind = 'scheduled'): void {
    // With `overlap: 'skip'` the fleet's records decide, and their refusal is the one report of the fire.
    if (this.inFlight > 0 && !this.policy?.overlap) {
      this.emit('execution:overlap', slot);
      if (this.options.noOverlap) {
        this.logger.warn('task still running, new execution blocked by overlap prevention!');
        return;
      }
    }
    this.inFlight++;
    // With no election and no random delay there is nothing to wait for: the function starts in this very timer
    // callback, rather than after every other fire due at the same instant has been planned.
    const run = this.coordinator || this.options.maxRandomDelay ? this.runFire(slot, next, kind) : this.runUncoordinated(slot);
    void run.finally(() => this.inFlight--);
  }

  private async runUncoordinated(slot: number): Promise<void> {
    if (!this.limitReached()) await this.runScheduled(slot);
  }

  /**
   * The election path of one fire: election, jitter, run, completion. A fire this process won and cannot run
   * (stopped meanwhile, its limit reached, too late) is given back, so another process of the host can run it;
   * when nobody does, it is reported here, whatever the task's state.
   */
  private async runFire(slot: number, next: number | null, kind: FireKind = 'scheduled'): Promise<Coordination> {
    const coordinator = this.coordinator;
    const key = `${this.name}:${new Date(slot).toISOString()}`;
    const ofSchedule = kind === 'scheduled' || kind === 'late';
    // A catch-up, a trigger, a fire that waited its turn is due when it is asked for, not at its past slot.
    const due = ofSchedule ? slot : Date.now();
    const catchUp = kind === 'catch-up';
    const optional = kind === 'late' || kind === 'catch-up' || kind === 'triggered';
    const timeout = this.options.electionTimeout ?? defaultElectionTimeout(due, next);
    const tolerance = this.tolerance();
    const delay = Math.floor(Math.random() * (this.options.maxRandomDelay ?? 0));
    // A run may start this late at most: a timer late by the tolerance, the whole election bound, the random delay.
    const latestStart = due + tolerance + timeout + delay;
    const claim: RunClaim = { kind };
    if (coordinator) {
      const asked = observing() ? performance.now() : undefined;
      const election = await elect(coordinator, key, this.options.distributedLease ?? DEFAULT_LEASE_MS, timeout, {
        slot,
        deadline: due + tolerance,
        waitMs: Math.max(0, timeout - Math.min(ANSWER_MARGIN_MS, timeout / 4)),
        watchUntil: due + tolerance + timeout + (this.options.maxRandomDelay ?? 0),
        ...(this.policy || optional ? { policy: { ...this.policy, ...(optional ? { optional } : {}) } } : {}),
      });
      if (asked !== undefined) observeElection(this.name, (performance.now() - asked) / 1000, election.elected);
      if (ofSchedule) {
        this.logElection(key, election);
        if (!election.elected && election.reason === 'coordinator-error') this.owedCatchUp?.owe(slot, election.error, Date.now());
        else this.owedCatchUp?.reachable(Date.now());
      }
      if (!election.elected) {
        // A buffered fire waits its turn; asked again, a failed answer is asked again too (its lease decides).
        if (election.reason === 'buffered' || (kind === 'buffered' && election.reason === 'coordinator-error')) return this.waitTurn(slot, next);
        // Losing an optional fire is the usual case (somebody else runs it, or ran it), no reason for a report.
        // Nor a buffered one: losing it means its record lapsed, which the claim that found it reports.
        const expectedLoss = catchUp || kind === 'buffered' || (optional && election.reason === 'not-elected');
        if (!expectedLoss) this.skip(slot, election);
        return election.reason === 'coordinator-error' ? { coordinated: false, error: election.error } : COORDINATED;
      }
      claim.fencingToken = election.fencingToken;
      claim.last = election.last === true;
    }
    const waited = await this.waitFor(delay);
    const unable = this.unableToRun(waited, latestStart);
    if (unable) {
      // The authority may wait for a late taker until the fire's deadline before it answers the release.
      if (coordinator) await this.giveBack(coordinator, key, slot, unable, Math.max(timeout, slot + tolerance - Date.now() + timeout));
      else if (unable.late) this.reportMissed(slot);
      return COORDINATED;
    }
    const tracking = coordinator && isTracking(coordinator) ? coordinator : undefined;
    tracking?.started(key);
    let execution: Execution | undefined;
    try {
      execution = await this.runScheduled(slot, claim);
    } finally {
      if (coordinator) await this.complete(coordinator, key, timeout, execution && outcomeOf(execution));
    }
    return COORDINATED;
  }

  /** A failed election is logged once per outage of this task's coordinator, and its end once, with the count. */
  private logElection(key: string, election: Election): void {
    if (!election.elected && election.reason === 'coordinator-error') {
      this.electionOutage ??= new OutageLog(this.logger, `task "${this.name}"`, ELECTIONS('its coordinator'));
      this.electionOutage.failed(key, election.error);
    } else {
      this.electionOutage?.succeeded();
    }
  }

  /** Tells the coordinator the fire is done; failures are logged as the elections' are. */
  private async complete(coordinator: RunCoordinator, key: string, timeout: number, outcome?: FireOutcome): Promise<void> {
    const failure = await complete(coordinator, key, timeout, outcome);
    if (failure === undefined) return this.completionOutage?.succeeded();
    this.completionOutage ??= new OutageLog(this.logger, `task "${this.name}"`, COMPLETIONS);
    this.completionOutage.failed(key, failure);
  }

  /** Why a won fire cannot run now, if it cannot. */
  private unableToRun(waited: boolean, latestStart: number): { cause: string; late: boolean } | undefined {
    if (!waited || !this.started) return { cause: `task ${this.name} was ${this.destroyed ? 'destroyed' : 'stopped'} before its run began`, late: false };
    if (this.limitReached()) return { cause: `task ${this.name} reached maxExecutions (${this.options.maxExecutions}) before its run began`, late: false };
    const now = Date.now();
    if (now > latestStart) return { cause: `this process reached the run ${now - latestStart} ms after the latest start allowed (paused or overloaded?)`, late: true };
    return undefined;
  }

  /** Gives a won fire back; reports it when no other process took it over. */
  private async giveBack(coordinator: RunCoordinator, key: string, slot: number, unable: { cause: string; late: boolean }, timeout: number): Promise<void> {
    let handedOver = false;
    if (isTracking(coordinator)) handedOver = await callBounded(() => coordinator.release(key, unable.cause), timeout, `release(${key})`).catch(() => false);
    else await this.complete(coordinator, key, timeout);
    if (handedOver) return;
    if (unable.late) return this.reportMissed(slot);
    const error = new Error(`fire ${key} was elected here but not run: ${unable.cause}; no other process took it over`);
    this.logger.error(error.message);
    this.emit('execution:skipped', slot, undefined, 'coordinator-error', error);
  }

  /** What its authority says about one of its fires: it ran nowhere (`execution:lost`), or its run lost its claim. */
  hear(notice: Notice, via?: TrackingCoordinator): void {
    const slot = slotOfKey(notice.key);
    if (slot === undefined) return;
    if (notice.kind === 'lost') return this.reportLost(slot, notice.cause, notice.ran === true);
    // A trigger of another backend's task of the same name, or of a task that is not distributed, is not this one's.
    if (notice.kind === 'trigger') return this.coordinator && (via === undefined || via === this.coordinator) ? this.runTriggered(slot) : undefined;
    for (const run of this.running) if (run.slot === slot) run.abort(new Error(`the run of fire ${notice.key} lost its claim: ${notice.cause}`));
  }

  /** Reports a fire this process lost whose winner stopped or died without running it, or before its run ended. */
  reportLost(slot: number, cause: string, ran: boolean): void {
    this.emit('execution:lost', slot, undefined, undefined, lostFire(this.name, slot, cause, ran));
  }

  /**
   * A fire this process does not run. One that cannot be coordinated is reported even by a task stopped meanwhile:
   * it may have run nowhere. One the fleet's policy refused is reported by the process told so (one per fire).
   */
  private skip(slot: number, election: Exclude<Election, { elected: true }>): void {
    switch (election.reason) {
      case 'coordinator-error': {
        const error = election.error instanceof Error ? election.error : new Error(String(election.error));
        return this.emit('execution:skipped', slot, undefined, 'coordinator-error', error);
      }
      case 'overlap':
        return this.emit('execution:overlap', slot);
      case 'limit':
        return this.stopAtLimit(slot);
      case 'buffered':
        // Waits its turn (runFire): not skipped.
        return;
      default:
        if (this.started) this.emit('execution:skipped', slot, undefined, election.reason);
    }
  }

  /** This process's `maxExecutions`, or the fleet's `fleetMaxExecutions`, is reached: this copy stops. */
  private stopAtLimit(slot: number): void {
    if (this.destroyed) return;
    this.emit('execution:maxReached', slot);
    this.destroy();
  }

  /**
   * The fire waits (`overlap: 'buffer-one'`) for the run before it, somewhere in the fleet, to end: asked again
   * every TURN_POLL_MS while the task is started. Stopped meanwhile, it is not asked for again: its record's lease
   * lapses, and the claim that finds it reports it lost.
   */
  private async waitTurn(slot: number, next: number | null): Promise<Coordination> {
    if (!(await this.waitFor(TURN_POLL_MS)) || !this.started) return COORDINATED;
    return this.runFire(slot, next, 'buffered');
  }

  /** Waits `delay` ms (the random delay, a buffered fire's turn), if any; false when the task was stopped meanwhile. */
  private async waitFor(delay: number): Promise<boolean> {
    if (delay <= 0) return true;
    const wait = new CancellableWait(delay, this.referenced);
    this.waits.add(wait);
    try {
      return await wait.done;
    } finally {
      this.waits.delete(wait);
    }
  }

  private limitReached(): boolean {
    const max = this.options.maxExecutions;
    return max !== undefined && this.runCount >= max;
  }

  private async runScheduled(slot: number, claim: RunClaim = {}): Promise<Execution> {
    this.runCount++;
    const lastOne = this.limitReached() || claim.last === true;
    if (lastOne) {
      // No further fire is planned once the last allowed run has started.
      this.expected = null;
      timerQueue.remove(this);
    }
    this.executing++;
    const execution: Execution = { id: randomUUID(), reason: 'scheduled' };
    await this.invoke(slot, execution, () => this.settleRun(), claim);
    if (lastOne) this.stopAtLimit(slot);
    return execution;
  }

  private settleRun(): void {
    if (--this.executing === 0) this.notifyIdle();
  }

  /** Runs the function once and reports it; `beforeReport` runs between the end of the run and its events. */
  private async invoke(date: number, execution: Execution, beforeReport?: () => void, claim: RunClaim = {}): Promise<void> {
    execution.startedAt = new Date();
    this.emit('execution:started', date, execution);
    const context = this.context(date, execution);
    if (claim.fencingToken !== undefined) context.fencingToken = claim.fencingToken;
    if (claim.kind === 'catch-up') context.catchUp = true;
    if (claim.kind === 'triggered') context.triggered = true;
    const run = new Run(date);
    context.signal = run.signal;
    this.running.add(run);
    try {
      execution.result = await this.fn(context);
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
    } finally {
      this.running.delete(run);
    }
  }

  private reportMissed(slot: number): void {
    this.warnMissed(new Date(slot));
    this.emit('execution:missed', slot);
  }

  private setReferenced(referenced: boolean): void {
    this.referenced = referenced;
    timerQueue.setRef(this, referenced);
    for (const wait of this.waits) wait.setRef(referenced);
    this.owedCatchUp?.setRef(referenced);
    this.hearTriggers();
  }
}

/**
 * A fire of the schedule; one of it due just before the task started (`late`: run if nobody has); the catch-up of a
 * missed one; one asked for by `trigger()` (these three are optional: losing them is no skip); or one of the
 * schedule asked for again as it waits its turn (`buffered`).
 */
type FireKind = 'scheduled' | 'late' | 'catch-up' | 'triggered' | 'buffered';

/** What the election of a run said: its fencing token, whether it is the fleet's last allowed run; and its kind. */
interface RunClaim {
  fencingToken?: number;
  last?: boolean;
  kind?: FireKind;
}

/** A run in progress: its fire (the planned instant, or now for `execute()`) and the abort of its `ctx.signal`. */
class Run extends AbortController {
  constructor(readonly slot: number) {
    super();
  }
}

/** How a run ended, for its fire's record. */
function outcomeOf({ startedAt, finishedAt, error }: Execution): FireOutcome {
  const times = { startedAt: startedAt!.getTime(), endedAt: (finishedAt ?? new Date()).getTime() };
  if (!error) return { state: 'succeeded', ...times };
  const thrown = error instanceof Error ? error : new Error(String(error));
  return { state: 'failed', ...times, error: { name: thrown.name.slice(0, 200), message: thrown.message.slice(0, 1000) } };
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The error of an `execution:lost` event. */
export function lostFire(name: string, slot: number, cause: string, ran: boolean): Error {
  const fire = `fire ${name}:${new Date(slot).toISOString()}`;
  return new Error(ran ? `the run of ${fire} was lost before it ended: ${cause}` : `${fire} ran nowhere: ${cause}`);
}
