/**
 * Public types. Names and shapes follow node-cron 4.6 so existing code type-checks after swapping the import;
 * `any` is replaced by `unknown`, and the few additions are marked.
 */

export type TaskStatus = 'stopped' | 'idle' | 'running' | 'destroyed';

export type SkipReason = 'not-elected' | 'coordinator-error' | 'paused';

export type TaskEvent =
  | 'task:started'
  | 'task:stopped'
  | 'task:destroyed'
  | 'task:failed'
  | 'execution:started'
  | 'execution:finished'
  | 'execution:failed'
  | 'execution:missed'
  | 'execution:overlap'
  | 'execution:maxReached'
  | 'execution:skipped'
  /** fleetcron: a fire this process lost to another ran nowhere after all (its winner stopped or died); `error` says why. */
  | 'execution:lost';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string | Error, err?: unknown): void;
  debug(message: string | Error, err?: unknown): void;
}

/** Decides, once per fire, whether this process runs it. `key` is `${name}:${slot as UTC ISO}`. */
export interface RunCoordinator {
  shouldRun(key: string, ttlMs: number): boolean | Promise<boolean>;
  onComplete?(key: string): void | Promise<void>;
}

export interface Execution {
  id: string;
  reason: 'invoked' | 'scheduled';
  startedAt?: Date;
  finishedAt?: Date;
  error?: Error;
  result?: unknown;
}

export interface TaskContext {
  /** The planned instant of the fire (`execution:*`), or now (`task:*` and invoked runs). */
  date: Date;
  /** `date` in the task's time zone, e.g. `2025-01-01T05:30:00.000+05:30`. */
  dateLocalIso: string;
  task?: ScheduledTask;
  execution?: Execution;
  triggeredAt: Date;
  reason?: SkipReason;
  /** `task:failed`; and, on `execution:skipped` (`coordinator-error`) and `execution:lost`, the cause. */
  error?: Error;
  /**
   * fleetcron, in the task function of a distributed run whose coordinator keeps records (Redis, PostgreSQL, a host
   * authority): the claim's fencing token, strictly increasing per task across the fleet. A write made conditional
   * on it (`UPDATE … WHERE fencing_token < $1`) is refused once a later fire's run has written.
   */
  fencingToken?: number;
  /**
   * fleetcron, in the task function: aborts when the run should stop — its fire's recorded claim was lost (a
   * renewal refused, or failing past the lease), or its task was destroyed during the run (`shutdown()` past its
   * timeout). `signal.reason` says why.
   */
  signal?: AbortSignal;
  /** fleetcron, in the task function: this run catches up a fire nobody ran (`catchUp`); `date` is that fire. */
  catchUp?: boolean;
  /** fleetcron, in the task function: this run is an extra fire asked for by `trigger(name)`; `date` is when. */
  triggered?: boolean;
}

export type TaskFn = (context: TaskContext) => unknown;

export type TaskListener = (context: TaskContext) => Promise<void> | void;

export interface LastRun {
  date: Date;
  result?: unknown;
  error?: Error;
}

export interface TaskOptions {
  timezone?: string;
  name?: string;
  noOverlap?: boolean;
  distributed?: boolean;
  runCoordinator?: RunCoordinator;
  /** Lease of a fire's claim in ms, passed to `shouldRun` as `ttlMs`. Default 30 000. */
  distributedLease?: number;
  maxExecutions?: number;
  maxRandomDelay?: number;
  logger?: Logger;
  suppressMissedWarning?: boolean;
  missedExecutionTolerance?: number;
  executeTimeout?: number;
  startTimeout?: number;
  unref?: boolean;
  /**
   * fleetcron: bound in ms on each `shouldRun`/`onComplete` call; past it the fire is skipped with
   * `coordinator-error`. Default: half the gap to the next fire, between 100 ms and 5 000 ms.
   */
  electionTimeout?: number;
  /**
   * fleetcron, distributed tasks: `'skip'` — a fire is not run while a run of the task is still going anywhere in
   * the fleet (its lease decides for a run that died); the process that would have run it emits
   * `execution:overlap`. `'buffer-one'` — the first fire due during a run waits instead and runs as soon as
   * nothing runs (anywhere: on the process it was due on); later fires while it waits are skipped so. Default
   * `'allow'`. `noOverlap` keeps node-cron's meaning: within this process.
   */
  overlap?: 'allow' | 'skip' | 'buffer-one';
  /**
   * fleetcron, distributed tasks: the task runs at most this many times across the fleet, then every process's copy
   * stops with `execution:maxReached`. `maxExecutions` counts in this process only.
   */
  fleetMaxExecutions?: number;
  /**
   * fleetcron, distributed tasks: when the task starts, the latest fire of the last `catchUp` ms that has no record
   * anywhere in the fleet (the whole fleet was down) runs once, elected like any fire, with `ctx.catchUp === true`.
   */
  catchUp?: number;
}

export interface ScheduledTask {
  id: string;
  name?: string;
  /** The task's `timezone` option, as node-cron's task carries it (undefined: the system zone). */
  readonly timezone?: string;
  /** The expression the task was created with, as node-cron's task carries it. */
  readonly cronExpression?: string;
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
  getStatus(): TaskStatus;
  destroy(): void | Promise<void>;
  execute(): Promise<unknown>;
  getNextRun(): Date | null;
  /** fleetcron: `from` (default now) is an addition to node-cron's signature. */
  getNextRuns(count: number, from?: Date): Date[];
  match(date: Date): boolean;
  msToNext(): number | null;
  isBusy(): boolean;
  runsLeft(): number | undefined;
  getPattern(): string;
  lastRun(): LastRun | null;
  unref(): void;
  ref(): void;
  on(event: TaskEvent, listener: TaskListener): void;
  off(event: TaskEvent, listener: TaskListener): void;
  once(event: TaskEvent, listener: TaskListener): void;
}

export interface CronFieldError {
  field: string;
  value?: string;
  message: string;
}

export interface ParsedFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: (number | string)[];
  month: number[];
  dayOfWeek: (number | string)[];
}

export interface DetailedValidation {
  valid: boolean;
  fields?: ParsedFields;
  errors: CronFieldError[];
}
