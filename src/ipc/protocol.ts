import { randomBytes } from '../builtins.js';
import type { Refusal } from '../coordination/records/backend.js';
import type { FireOutcome } from '../coordination/records/fire-record.js';

/**
 * The one wire protocol between a process and its election authority, in every topology (node:cluster,
 * forked daemon, PM2 bus). JSON only — PM2 re-encodes everything as JSON. The envelope is PM2-shaped: PM2 relays a
 * child's message to its bus only with `type` + `data`, delivers a reply only with a truthy `topic`, and
 * overwrites a top-level `id`, so ids live inside `data`.
 */
export const PROTOCOL = 'fleetcron';
export const VERSION = 1;
/** Bus event / message type of every fleetcron message; all other traffic on a channel is ignored. */
export const MESSAGE_TYPE = 'fleetcron:ipc';
/** A serialized request or reply larger than this is refused, so nobody floods a shared channel (PM2's daemon). */
export const MAX_MESSAGE_BYTES = 4096;
export const MAX_KEY_LENGTH = 1024;

export type RequestKind = 'hello' | 'elect' | 'started' | 'release' | 'complete' | 'subscribe';

/** Who wins fire `key` (with a lease of `ttlMs`); `slot` is the fire's planned instant, when the key carries one. */
export interface Election {
  key: string;
  ttlMs: number;
  slot?: number;
  /** The last instant (epoch ms, this host's clock) at which the requester can still start the fire. */
  deadline?: number;
  /** How long the requester waits for its answer, in ms; a loser's answer is held at most this long. */
  waitMs?: number;
  /** Fleet-wide policies of the task, for an authority whose fires are recorded. */
  overlap?: 'skip' | 'buffer-one';
  fleetMax?: number;
  /** Not a fire of the schedule on time (a catch-up, a trigger): lost, not an error, when this authority cannot know whether it ran. */
  optional?: true;
}

/** The fields of a request besides the envelope's. */
export type RequestBody =
  | { kind: 'hello' }
  | ({ kind: 'elect' } & Election)
  /** The elected requester has started the run. */
  | { kind: 'started'; key: string }
  /** The elected requester cannot run the fire (stopped, shutting down, too late): the authority hands it on. */
  | { kind: 'release'; key: string; cause: string }
  /** The elected requester's run has ended; `outcome` says how (absent: the requester does not know). */
  | { kind: 'complete'; key: string; outcome?: FireOutcome }
  /** The requester has tasks that run triggered fires (`on`), or no longer: it is sent a trigger notice for each. */
  | { kind: 'subscribe'; on: boolean };

export type Request = RequestBody & {
  proto: typeof PROTOCOL;
  v: number;
  /** Unique per process incarnation: `${pid}.${bootNonce}.${counter}`. */
  id: string;
};

export type ErrorCode = 'unsupported-version' | 'bad-request' | 'coordinator-error';

export interface Reply {
  proto: typeof PROTOCOL;
  v: number;
  kind: 'reply';
  id: string;
  ok: boolean;
  elected?: boolean;
  /** On a win, when the host's claim is recorded by a backend: its fencing token. */
  fencingToken?: number;
  /** On a win: the fleet-wide run limit is reached with this run. */
  last?: boolean;
  /** On a loss: the records refused the claim by the task's policy. */
  refused?: Refusal;
  /** On a release: another process took the fire over. */
  handedOver?: boolean;
  error?: { code: ErrorCode; message: string };
  /** Identifies the authority incarnation, so a restart or a duplicate authority is visible. */
  authority: { id: string; pid: number };
}

/**
 * Unsolicited, authority to requester: fire `key`, which this requester was told it had not won, did not run
 * (or did not end): its winner stopped, died or was cut off, and nobody could take it over.
 */
export interface LostNotice {
  proto: typeof PROTOCOL;
  v: number;
  kind: 'lost';
  key: string;
  cause: string;
  /** The run had started: it was lost before it ended, rather than never run. */
  ran?: boolean;
  /**
   * Found in the records of a backend shared by other hosts: the lease of a fire of this task lapsed without an
   * end. Delivered to a process whatever fires it is waiting for.
   */
  remote?: boolean;
}

export interface Envelope<T> {
  type: typeof MESSAGE_TYPE;
  topic: typeof PROTOCOL;
  data: T;
}

export function envelope<T extends Request | Reply | Notice>(data: T): Envelope<T> {
  return { type: MESSAGE_TYPE, topic: PROTOCOL, data };
}

/** The `data` of a fleetcron message, or undefined for anything else on the channel. */
export function openEnvelope(message: unknown): Record<string, unknown> | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { type, data } = message as { type?: unknown; data?: unknown };
  if (type !== MESSAGE_TYPE || typeof data !== 'object' || data === null) return undefined;
  return (data as { proto?: unknown }).proto === PROTOCOL ? (data as Record<string, unknown>) : undefined;
}

export function fitsSizeCap(data: unknown): boolean {
  try {
    return Buffer.byteLength(JSON.stringify(data)) <= MAX_MESSAGE_BYTES;
  } catch {
    return false;
  }
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string };

const KINDS: ReadonlySet<unknown> = new Set<RequestKind>(['hello', 'elect', 'started', 'release', 'complete', 'subscribe']);
const MAX_CAUSE_LENGTH = 1024;

/** Checks an incoming request; a bad one gets an error reply when it carries an id to answer. */
export function parseRequest(data: Record<string, unknown>): Parsed<Request> {
  if (data.v !== VERSION) {
    return { ok: false, code: 'unsupported-version', message: `protocol version ${String(data.v)} is not supported (this authority speaks ${VERSION})` };
  }
  if (!fitsSizeCap(data)) return { ok: false, code: 'bad-request', message: `request larger than ${MAX_MESSAGE_BYTES} bytes` };
  const { kind, key, ttlMs, slot, deadline, waitMs, cause } = data;
  if (!KINDS.has(kind)) return { ok: false, code: 'bad-request', message: `unknown request kind ${String(kind)}` };
  if (kind === 'hello') return { ok: true, value: data as unknown as Request };
  if (kind === 'subscribe') {
    return typeof data.on === 'boolean' ? { ok: true, value: data as unknown as Request } : { ok: false, code: 'bad-request', message: 'on must be a boolean' };
  }
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    return { ok: false, code: 'bad-request', message: `key must be a non-empty string of at most ${MAX_KEY_LENGTH} characters` };
  }
  if (kind === 'elect') {
    if (!(Number.isSafeInteger(ttlMs) && (ttlMs as number) > 0)) return { ok: false, code: 'bad-request', message: 'ttlMs must be a positive integer' };
    for (const [field, value] of [['slot', slot], ['deadline', deadline], ['waitMs', waitMs]] as const) {
      if (value !== undefined && !Number.isSafeInteger(value)) return { ok: false, code: 'bad-request', message: `${field} must be an integer` };
    }
    if (data.overlap !== undefined && data.overlap !== 'skip' && data.overlap !== 'buffer-one') {
      return { ok: false, code: 'bad-request', message: "overlap must be 'skip' or 'buffer-one' when given" };
    }
    if (data.optional !== undefined && data.optional !== true) return { ok: false, code: 'bad-request', message: 'optional must be true when given' };
    if (data.fleetMax !== undefined && !(Number.isSafeInteger(data.fleetMax) && (data.fleetMax as number) > 0)) {
      return { ok: false, code: 'bad-request', message: 'fleetMax must be a positive integer' };
    }
  }
  if (kind === 'release' && (typeof cause !== 'string' || cause.length > MAX_CAUSE_LENGTH)) {
    return { ok: false, code: 'bad-request', message: `cause must be a string of at most ${MAX_CAUSE_LENGTH} characters` };
  }
  if (kind === 'complete' && data.outcome !== undefined && !isOutcome(data.outcome)) {
    return { ok: false, code: 'bad-request', message: 'outcome must be { state: succeeded | failed | lost, startedAt, endedAt, error? | cause }' };
  }
  return { ok: true, value: data as unknown as Request };
}

/** Parses a reply addressed to a pending request; anything malformed is treated as not ours. */
export function parseReply(data: Record<string, unknown>): Reply | undefined {
  if (data.kind !== 'reply' || typeof data.id !== 'string' || typeof data.ok !== 'boolean') return undefined;
  const authority = data.authority as Reply['authority'] | undefined;
  if (typeof authority !== 'object' || authority === null || typeof authority.id !== 'string') return undefined;
  return data as unknown as Reply;
}

/** Unsolicited, authority to the holder of fire `key`: its recorded claim is gone, the run should stop. */
export interface RevokedNotice {
  proto: typeof PROTOCOL;
  v: number;
  kind: 'revoked';
  key: string;
  cause: string;
}

/** Unsolicited, authority to a subscribed requester: fire `key` was triggered; its tasks of that name claim it. */
export interface TriggerNotice {
  proto: typeof PROTOCOL;
  v: number;
  kind: 'trigger';
  key: string;
}

export type Notice = LostNotice | RevokedNotice | TriggerNotice;

export function parseTriggerNotice(data: Record<string, unknown>): TriggerNotice | undefined {
  // A trigger's slot is never a whole second: one that is would claim a fire of the schedule early.
  const slot = data.kind === 'trigger' && typeof data.key === 'string' ? slotOfKey(data.key) : undefined;
  if (slot === undefined || slot % 1000 === 0) return undefined;
  return data as unknown as TriggerNotice;
}

export function parseRevokedNotice(data: Record<string, unknown>): RevokedNotice | undefined {
  if (data.kind !== 'revoked' || typeof data.key !== 'string' || typeof data.cause !== 'string') return undefined;
  return data as unknown as RevokedNotice;
}

export function parseLostNotice(data: Record<string, unknown>): LostNotice | undefined {
  if (data.kind !== 'lost' || typeof data.key !== 'string' || typeof data.cause !== 'string') return undefined;
  return data as unknown as LostNotice;
}

/** Request ids: pid + a nonce drawn at boot + a counter, so a restarted process never reuses one. */
export class RequestIds {
  private readonly prefix = `${process.pid}.${randomBytes(6).toString('hex')}.`;
  private counter = 0;

  next(): string {
    return this.prefix + (++this.counter).toString(36);
  }
}

/** The task name of a fleetcron fire key (`${name}:${ISO}`): the key without its slot. */
export function nameOfKey(key: string): string {
  return key.slice(0, key.length - ':0000-00-00T00:00:00.000Z'.length);
}

/** The planned instant encoded at the end of a fleetcron fire key (`${name}:${ISO}`), if there is one. */
export function slotOfKey(key: string): number | undefined {
  const match = /:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)$/.exec(key);
  if (!match) return undefined;
  const ms = Date.parse(match[1]!);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A run's outcome as a requester reports it: times are integers, texts bounded. */
function isOutcome(value: unknown): value is FireOutcome {
  if (typeof value !== 'object' || value === null) return false;
  const outcome = value as Record<string, unknown>;
  const text = (field: unknown) => typeof field === 'string' && field.length <= MAX_CAUSE_LENGTH;
  if (!Number.isSafeInteger(outcome.endedAt)) return false;
  if (outcome.state === 'lost') return text(outcome.cause);
  if (!Number.isSafeInteger(outcome.startedAt)) return false;
  if (outcome.state === 'succeeded') return true;
  const error = outcome.error as Record<string, unknown> | undefined;
  return outcome.state === 'failed' && typeof error === 'object' && error !== null && text(error.name) && text(error.message);
}
