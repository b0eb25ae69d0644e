import type { SkipReason, TaskEvent, TaskStatus } from '../types.js';
import type { Thrown } from './error-wire.js';

/**
 * The control messages between a parent and its background daemon: which task files to host and what happened
 * to them. Elections do not travel here but as `fleetcron:ipc` requests (protocol.ts). The channel uses the
 * `advanced` serialization, so dates, maps and other cloneable values arrive as they were sent.
 */
export const DAEMON_MESSAGE = 'fleetcron:daemon';

/** One `start()` of a task in the daemon, from its load to its release, is a session. */
export type SessionId = string;

/** The options a hosted task runs with; the logger, the coordinator and the timeouts of the API stay in the parent. */
export interface HostedOptions {
  name: string;
  timezone?: string;
  noOverlap?: boolean;
  distributed?: boolean;
  distributedLease?: number;
  maxExecutions?: number;
  maxRandomDelay?: number;
  missedExecutionTolerance?: number;
  electionTimeout?: number;
}

export type Command =
  | { op: 'load'; session: SessionId; file: string; pattern: string; options: HostedOptions }
  | { op: 'stop' | 'destroy'; session: SessionId }
  | { op: 'execute'; session: SessionId; request: string };

export interface WireExecution {
  id: string;
  reason: 'invoked' | 'scheduled';
  startedAt?: Date;
  finishedAt?: Date;
  result?: unknown;
  error?: Thrown;
}

export interface WireContext {
  date: Date;
  dateLocalIso: string;
  triggeredAt: Date;
  reason?: SkipReason;
  /** The cause of a skip or a lost fire. */
  error?: Thrown;
  execution?: WireExecution;
}

export type LogLevel = 'info' | 'warn' | 'error' | 'debug';

export type Notice =
  /** A task event, with the hosted task's status right after it. */
  | { op: 'event'; session: SessionId; event: TaskEvent; status: TaskStatus; context: WireContext }
  | { op: 'log'; session: SessionId; level: LogLevel; message: Thrown; detail?: Thrown }
  | { op: 'load-failed'; session: SessionId; error: Thrown }
  | { op: 'executed'; session: SessionId; request: string; outcome: { result: unknown } | { error: Thrown } }
  /** The session is over in the daemon: stopped and no run left in flight. */
  | { op: 'released'; session: SessionId }
  /** The daemon is about to die of an exception nobody handled. */
  | { op: 'fatal'; error: Thrown };

export interface DaemonMessage<T extends Command | Notice> {
  type: typeof DAEMON_MESSAGE;
  body: T;
}

export function daemonMessage<T extends Command | Notice>(body: T): DaemonMessage<T> {
  return { type: DAEMON_MESSAGE, body };
}

const COMMANDS: ReadonlySet<unknown> = new Set<Command['op']>(['load', 'stop', 'destroy', 'execute']);
const NOTICES: ReadonlySet<unknown> = new Set<Notice['op']>(['event', 'log', 'load-failed', 'executed', 'released', 'fatal']);

/** The command in a message from the parent, or undefined for anything else on the channel. */
export function openCommand(message: unknown): Command | undefined {
  const body = bodyOf(message);
  if (!body || !COMMANDS.has(body.op) || typeof body.session !== 'string') return undefined;
  if (body.op === 'load' && (typeof body.file !== 'string' || typeof body.pattern !== 'string' || typeof body.options !== 'object')) return undefined;
  if (body.op === 'execute' && typeof body.request !== 'string') return undefined;
  return body as unknown as Command;
}

/** The notice in a message from the daemon, or undefined for anything else on the channel. */
export function openNotice(message: unknown): Notice | undefined {
  const body = bodyOf(message);
  if (!body || !NOTICES.has(body.op)) return undefined;
  if (body.op !== 'fatal' && typeof body.session !== 'string') return undefined;
  return body as unknown as Notice;
}

function bodyOf(message: unknown): Record<string, unknown> | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, body } = message as { type?: unknown; body?: unknown };
  return type === DAEMON_MESSAGE && typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
}
