import type { ParentChannel } from '../ipc/client.js';
import type { Notice as AuthorityNotice } from '../ipc/protocol.js';
import { InlineScheduledTask } from '../tasks/inline-task.js';
import type { Logger, RunCoordinator, TaskContext, TaskEvent, TaskFn } from '../types.js';
import { toThrown, type Thrown } from './error-wire.js';
import type { HostedOptions, LogLevel, Notice, SessionId, WireContext } from './wire.js';

/** Everything an inline task emits (it never emits `task:failed`; the parent does, when a daemon dies or a start by schedule() fails). */
const FORWARDED: TaskEvent[] = [
  'task:started', 'task:stopped', 'task:destroyed', 'execution:started', 'execution:finished', 'execution:failed',
  'execution:missed', 'execution:overlap', 'execution:maxReached', 'execution:skipped', 'execution:lost',
];

export interface HostedDeps {
  notify(notice: Notice): void;
  /** Ends the session in the host once the task is stopped and settled. */
  release(session: SessionId): void;
  /** The election channel of a distributed task, and the coordinator to put on it; `onNotice` hears about its fires. */
  coordinator(channel: ParentChannel, logger: Logger, onNotice: (notice: AuthorityNotice) => void): RunCoordinator;
  channel(session: SessionId): ParentChannel & { close(): void };
}

/**
 * One session of a task file in the daemon: an inline task running the file's function, its events and log lines
 * sent to the parent, its elections asked of the parent. Once stopped and settled (no run in flight), it is released.
 */
export class HostedTask {
  private readonly task: InlineScheduledTask;
  private readonly channel: (ParentChannel & { close(): void }) | undefined;
  private invoked = 0;
  private retiring = false;
  private released = false;

  constructor(
    readonly session: SessionId,
    pattern: string,
    fn: TaskFn,
    options: HostedOptions,
    private readonly deps: HostedDeps,
  ) {
    const logger = this.forwardingLogger();
    this.channel = options.distributed ? deps.channel(session) : undefined;
    const runCoordinator = this.channel && deps.coordinator(this.channel, logger, (notice) => this.task.hear(notice));
    this.task = new InlineScheduledTask(pattern, fn, { ...options, logger, runCoordinator });
    for (const event of FORWARDED) this.task.on(event, (context) => this.forward(event, context));
  }

  start(): void {
    this.task.start();
  }

  end(how: 'stop' | 'destroy'): void {
    if (how === 'stop') this.task.stop();
    else this.task.destroy();
  }

  async execute(request: string): Promise<void> {
    this.invoked++;
    let outcome: { result: unknown } | { error: Thrown };
    try {
      outcome = { result: await this.task.execute() };
    } catch (error) {
      outcome = { error: toThrown(error) };
    }
    this.invoked--;
    this.deps.notify({ op: 'executed', session: this.session, request, outcome });
    if (this.retiring) this.releaseIfSettled();
  }

  private forward(event: TaskEvent, context: TaskContext): void {
    if (this.released) return;
    this.deps.notify({ op: 'event', session: this.session, event, status: this.task.getStatus(), context: toWireContext(context) });
    if ((event === 'task:stopped' || event === 'task:destroyed') && !this.retiring) {
      this.retiring = true;
      void this.task.whenIdle().then(() => this.releaseIfSettled());
    }
  }

  private releaseIfSettled(): void {
    if (this.released || this.invoked > 0 || this.task.isBusy()) return;
    this.released = true;
    // A session is over once stopped, even if the task's own function started it again meanwhile.
    this.task.stop();
    this.channel?.close();
    this.deps.release(this.session);
  }

  private forwardingLogger(): Logger {
    const log = (level: LogLevel) => (message: string | Error, detail?: unknown) => {
      const notice: Notice = { op: 'log', session: this.session, level, message: toThrown(message) };
      if (detail !== undefined) notice.detail = toThrown(detail);
      this.deps.notify(notice);
    };
    return { info: log('info'), warn: log('warn'), error: log('error'), debug: log('debug') };
  }
}

function toWireContext(context: TaskContext): WireContext {
  const wire: WireContext = { date: context.date, dateLocalIso: context.dateLocalIso, triggeredAt: context.triggeredAt };
  if (context.reason) wire.reason = context.reason;
  if (context.error) wire.error = toThrown(context.error);
  const execution = context.execution;
  if (execution) {
    wire.execution = { id: execution.id, reason: execution.reason, startedAt: execution.startedAt, finishedAt: execution.finishedAt };
    if ('result' in execution) wire.execution.result = execution.result;
    if ('error' in execution) wire.execution.error = toThrown(execution.error);
  }
  return wire;
}
