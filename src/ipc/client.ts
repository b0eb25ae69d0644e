import type { FireOutcome } from '../coordination/records/fire-record.js';
import type { FireAsk, TrackingCoordinator } from '../coordination/tracking.js';
import type { Logger } from '../types.js';
import {
  envelope, openEnvelope, parseLostNotice, parseReply, parseRevokedNotice, parseTriggerNotice, PROTOCOL, RequestIds, slotOfKey, VERSION, type Notice, type Reply, type Request, type RequestBody,
} from './protocol.js';
import { TriggerHearers } from './trigger-hearers.js';

/** The IPC channel to the parent: `process` in a worker, PM2 instance or daemon. */
export interface ParentChannel {
  send?(message: unknown, callback: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

export interface ClientOptions {
  /** True when the parent identified itself as an authority; otherwise it must answer a hello first. */
  verified: boolean;
  /** What the user should do when nobody answers, e.g. "call serveCluster() in the primary". */
  missing: string;
  logger: Logger;
  /**
   * How long a request waits for its reply at most (a task stops waiting for its election sooner). Longer than
   * the authority's own bound on its upstream (5 s), so a slow upstream is reported by the authority rather than
   * taken for a silent authority.
   */
  requestTimeoutMs?: number;
  /** How long a hello waits: the authority answers it at once. */
  probeTimeoutMs?: number;
  /** How often a silent authority is asked again. */
  reprobeMs?: number;
  /** How long the authority may stay silent before the warning (it may be starting up beside this process). */
  warnAfterMs?: number;
  /**
   * While this process hears triggers, its subscription is sent again this often, so an authority that restarted
   * (a PM2 arbiter) has it; also the least time between two sent because a reply came from another authority. Default 10 000.
   */
  resubscribeMs?: number;
  /** A fire this process lost ran nowhere after all, a run of its lost its claim, or a trigger. */
  onNotice?(notice: Notice): void;
  now?: () => number;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** An election whose caller stopped waiting: a late win is given back. */
  abandonedKey?: string;
}

/**
 * - `unverified`: the parent has never answered; nothing but hellos is sent until it does;
 * - `up`: it answers;
 * - `down`: it answered once, and a request went unanswered since (restarting, say): elections still go to it,
 *   and hellos ask whether it is back;
 * - `closed`: the channel is gone.
 */
type State = 'unverified' | 'up' | 'down' | 'closed';

/** How long a lost fire may still be reported after the moment its winner had to start it. */
const LOST_WATCH_GRACE_MS = 1000;
const DEFAULT_RESUBSCRIBE_MS = 10_000;

/**
 * A coordinator that asks the authority at the other end of the parent channel and follows each fire it wins:
 * it says when the run starts, ends, or cannot happen (so another process of the host takes it over). It never
 * talks election to a parent that has not identified itself. While the authority is silent it asks again every
 * `reprobeMs`, and a fire waits for that check rather than failing at once.
 */
export class AuthorityClient implements TrackingCoordinator {
  private state: State;
  private probe: Promise<boolean> | undefined;
  private probeSentAt = 0;
  private reprobeTimer: NodeJS.Timeout | undefined;
  private silentSince: number;
  private warned = false;
  private closedReason = '';
  /** Replies matched so far; a request that times out after a later one was answered was lost, not unanswered. */
  private answers = 0;
  private readonly pending = new Map<string, Pending>();
  /** Fires this process won and has not ended or given up yet, with their fencing tokens when recorded. */
  private readonly won = new Map<string, number | undefined>();
  /** Fires this process lost, until when a notice that they ran nowhere is still taken. */
  private readonly watching = new Map<string, number>();
  private watchTimer: NodeJS.Timeout | undefined;
  private listening = false;
  /** Tasks of this process that run triggered fires (and authorities below that pass them on), and the authority incarnation told so. */
  private readonly hearers = new TriggerHearers();
  private subscribedTo: string | undefined;
  private subscribing = false;
  private subscribedAt = -Infinity;
  private resubscribeTimer: NodeJS.Timeout | undefined;
  private readonly ids = new RequestIds();
  private readonly timeoutMs: number;
  private readonly probeTimeoutMs: number;
  private readonly reprobeMs: number;
  private readonly warnAfterMs: number;
  private readonly now: () => number;

  constructor(
    private readonly channel: ParentChannel,
    private readonly options: ClientOptions,
  ) {
    this.timeoutMs = options.requestTimeoutMs ?? 6000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 1000;
    this.reprobeMs = options.reprobeMs ?? 1000;
    this.warnAfterMs = options.warnAfterMs ?? 5000;
    this.now = options.now ?? (() => Date.now());
    this.silentSince = this.now();
    this.state = options.verified ? 'up' : 'unverified';
    channel.once('disconnect', () => this.close('the IPC channel to the authority is closed'));
    if (!options.verified) this.checkNow();
  }

  /** How many fires this process won and has not ended or given up (for tests: nothing leaks). */
  get open(): number {
    return this.won.size;
  }

  async shouldRun(key: string, ttlMs: number, fire: FireAsk = {}): Promise<boolean> {
    await this.ready(fire.signal);
    const { slot = slotOfKey(key), deadline, waitMs, signal, policy } = fire;
    const reply = await this.request({ kind: 'elect', key, ttlMs, slot, deadline, waitMs, ...policy }, this.timeoutMs, signal, key);
    fire.noted?.({ refused: reply.refused, last: reply.last === true });
    if (reply.elected === true) {
      this.won.set(key, typeof reply.fencingToken === 'number' ? reply.fencingToken : undefined);
      this.listen();
      return true;
    }
    if (fire.watchUntil !== undefined) this.watch(key, fire.watchUntil + LOST_WATCH_GRACE_MS);
    return false;
  }

  fencingTokenOf(key: string): number | undefined {
    return this.won.get(key);
  }

  started(key: string): void {
    if (this.won.has(key)) this.send({ kind: 'started', key });
  }

  async release(key: string, cause: string): Promise<boolean> {
    if (!this.won.delete(key)) return false;
    this.listen();
    const reply = await this.request({ kind: 'release', key, cause });
    return reply.handedOver === true;
  }

  hearTriggers(on: boolean, relay?: (key: string) => void): void {
    if (!this.hearers.change(on, relay)) return;
    this.listen();
    this.subscribe();
    clearInterval(this.resubscribeTimer);
    this.resubscribeTimer = undefined;
    if (!this.hearers.any) return;
    this.resubscribeTimer = setInterval(() => void (this.subscribing || this.subscribe()), this.options.resubscribeMs ?? DEFAULT_RESUBSCRIBE_MS);
    this.resubscribeTimer.unref();
  }

  /** Tells the authority whether this process runs triggered fires; sent again to an authority that restarted. */
  private subscribe(): void {
    const on = this.hearers.any;
    this.subscribedTo = undefined;
    this.subscribing = true;
    this.subscribedAt = this.now();
    this.request({ kind: 'subscribe', on }).then(
      (reply) => {
        this.subscribing = false;
        if (on && this.hearers.any) this.subscribedTo = reply.authority.id;
      },
      () => void (this.subscribing = false),
    );
  }

  async onComplete(key: string, outcome?: FireOutcome): Promise<void> {
    if (!this.won.delete(key)) return;
    this.listen();
    await this.request(outcome ? { kind: 'complete', key, outcome } : { kind: 'complete', key });
  }

  /** Waits until the authority answers: at once when it does, else for a check (bounded by the caller's wait). */
  private async ready(signal: AbortSignal | undefined): Promise<void> {
    if (this.state === 'up' || this.state === 'down') return;
    while (this.state === 'unverified') {
      const probe = this.probe ?? this.checkNow();
      const sentAt = this.probeSentAt;
      if (await probe) return;
      // Another check at once, while the caller still waits, unless this one failed without waiting (no channel).
      if (signal?.aborted !== false || this.now() - sentAt < this.probeTimeoutMs / 2) break;
    }
    const state = this.current();
    if (state === 'closed') throw new Error(`fleetcron authority unavailable: ${this.closedReason}`);
    if (state === 'up') return;
    const silentMs = this.now() - this.silentSince;
    if (!this.warned && silentMs >= this.warnAfterMs) {
      this.warned = true;
      this.options.logger.warn(
        `no fleetcron authority has answered for ${Math.round(silentMs / 1000)} s: ${this.options.missing}. ` +
          `Distributed fires are skipped (coordinator-error) until it answers; asking again every ${this.reprobeMs} ms.`,
      );
    }
    throw new Error(`no fleetcron authority is answering; ${this.options.missing}`);
  }

  /** The state, read afresh after an await (the compiler would keep it narrowed). */
  private current(): State {
    return this.state;
  }

  /** Sends a hello now; while nobody answers, another follows every `reprobeMs`. */
  private checkNow(): Promise<boolean> {
    clearTimeout(this.reprobeTimer);
    this.probeSentAt = this.now();
    const probe = this.request({ kind: 'hello' }, this.probeTimeoutMs).then(
      () => true,
      () => false,
    );
    this.probe = probe;
    void probe.then((answered) => {
      if (this.probe === probe) this.probe = undefined;
      if (!answered && (this.state === 'unverified' || this.state === 'down')) {
        this.reprobeTimer = setTimeout(() => this.checkNow(), this.reprobeMs);
        this.reprobeTimer.unref();
      }
    });
    return probe;
  }

  private answered(): void {
    this.answers++;
    if (this.state !== 'unverified' && this.state !== 'down') return;
    if (this.warned) this.options.logger.info('fleetcron authority is answering again; distributed fires are elected again');
    this.warned = false;
    this.state = 'up';
    clearTimeout(this.reprobeTimer);
  }

  private markDown(): void {
    if (this.state !== 'up') return;
    this.state = 'down';
    this.silentSince = this.now();
    this.checkNow();
  }

  private close(reason: string): void {
    this.state = 'closed';
    this.closedReason = reason;
    clearTimeout(this.reprobeTimer);
    clearTimeout(this.watchTimer);
    clearInterval(this.resubscribeTimer);
    this.watching.clear();
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(new Error(`fleetcron authority unavailable: ${reason}`));
  }

  /** A request whose reply nobody waits for (`started`): its failure changes nothing. */
  private send(body: RequestBody): void {
    this.request(body).catch(() => undefined);
  }

  private request(body: RequestBody, timeoutMs = this.timeoutMs, signal?: AbortSignal, electionKey?: string): Promise<Reply> {
    const send = this.channel.send;
    if (this.state === 'closed' || !send) return Promise.reject(new Error(`fleetcron authority unavailable: ${this.closedReason || 'no IPC channel'}`));
    if (signal?.aborted) return Promise.reject(new Error('the task stopped waiting for its election'));
    const id = this.ids.next();
    const data: Request = { proto: PROTOCOL, v: VERSION, id, ...body };
    const answersBefore = this.answers;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.take(id)?.reject(new Error(`fleetcron authority did not answer within ${timeoutMs} ms`));
        // E.g. sent while a PM2 arbiter restarted: its replacement has answered since, so it is not down.
        if (this.answers === answersBefore) this.markDown();
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      this.listen();
      signal?.addEventListener('abort', () => {
        const pending = this.pending.get(id);
        if (!pending || electionKey === undefined) return;
        // Kept until its timeout: a win that arrives now is given back rather than left to nobody.
        pending.abandonedKey = electionKey;
        reject(new Error('the task stopped waiting for its election'));
      }, { once: true });
      try {
        send.call(this.channel, envelope(data), (error) => {
          if (error) this.take(id)?.reject(new Error(`fleetcron authority unreachable: ${error.message}`));
        });
      } catch (error) {
        this.take(id)?.reject(new Error(`fleetcron authority unreachable: ${(error as Error).message}`));
      }
    });
  }

  /** Removes a pending request, if it still waits. */
  private take(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    this.listen();
    return pending;
  }

  private watch(key: string, until: number): void {
    this.watching.set(key, until);
    this.listen();
    if (this.watchTimer === undefined) this.armWatchSweep();
  }

  private armWatchSweep(): void {
    let next = Infinity;
    for (const until of this.watching.values()) next = Math.min(next, until);
    if (next === Infinity) {
      this.watchTimer = undefined;
      return;
    }
    this.watchTimer = setTimeout(() => {
      const now = this.now();
      for (const [key, until] of this.watching) if (until <= now) this.watching.delete(key);
      this.listen();
      this.armWatchSweep();
    }, Math.max(0, next - this.now()));
    this.watchTimer.unref();
  }

  /**
   * Listens only while a request waits, a lost fire may be reported, or a won fire runs (its claim may be revoked),
   * so the channel never holds an idle process open.
   */
  private listen(): void {
    const wanted = this.pending.size > 0 || this.watching.size > 0 || this.won.size > 0 || this.hearers.any;
    if (wanted === this.listening) return;
    this.listening = wanted;
    if (wanted) this.channel.on('message', this.onMessage);
    else this.channel.off('message', this.onMessage);
  }

  private readonly onMessage = (message: unknown): void => {
    const data = openEnvelope(message);
    if (!data) return;
    const lost = parseLostNotice(data);
    if (lost) {
      if (!this.watching.delete(lost.key) && !lost.remote) return;
      this.listen();
      this.options.onNotice?.(lost);
      return;
    }
    const revoked = parseRevokedNotice(data);
    if (revoked) {
      if (this.won.has(revoked.key)) this.options.onNotice?.(revoked);
      return;
    }
    const trigger = parseTriggerNotice(data);
    if (trigger) {
      if (!this.hearers.any) return;
      this.options.onNotice?.(trigger);
      this.hearers.relay(trigger.key);
      return;
    }
    const reply = parseReply(data);
    if (!reply) return;
    // Not subscribed yet (it failed), or to an earlier incarnation of the authority (it restarted): again, at most
    // every resubscribeMs — two authorities answering (a duplicate) would otherwise undo each other's subscription.
    const resubscribe = this.hearers.any && !this.subscribing && reply.authority.id !== this.subscribedTo;
    if (resubscribe && this.now() - this.subscribedAt >= (this.options.resubscribeMs ?? DEFAULT_RESUBSCRIBE_MS)) this.subscribe();
    // Late replies, duplicates and replies meant for an earlier incarnation find nothing pending.
    const pending = this.take(reply.id);
    if (!pending) return;
    this.answered();
    if (pending.abandonedKey !== undefined) {
      if (reply.elected === true) this.request({ kind: 'release', key: pending.abandonedKey, cause: 'the answer came after this process had stopped waiting for it' }).catch(() => undefined);
      return;
    }
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new Error(`fleetcron authority refused the request (${reply.error?.code ?? 'error'}): ${reply.error?.message ?? 'no reason given'}`));
  };
}
