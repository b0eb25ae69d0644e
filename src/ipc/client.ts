import type { Logger, RunCoordinator } from '../types.js';
import { envelope, openEnvelope, parseReply, PROTOCOL, RequestIds, slotOfKey, VERSION, type Reply, type Request, type RequestBody } from './protocol.js';

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
   * How long an election waits for its reply. Longer than the authority's own bound on its upstream (5 s), so a
   * slow upstream is reported by the authority rather than taken for a silent authority.
   */
  requestTimeoutMs?: number;
  /** How long a hello waits: the authority answers it at once. */
  probeTimeoutMs?: number;
  /** How often a silent authority is asked again. */
  reprobeMs?: number;
  /** How long the authority may stay silent before the warning (it may be starting up beside this process). */
  warnAfterMs?: number;
  now?: () => number;
}

interface Pending {
  resolve(reply: Reply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

type State = 'up' | 'probing' | 'down' | 'closed';

/**
 * A RunCoordinator that asks the authority at the other end of the parent channel. It never talks election to a
 * parent that has not identified itself; when the authority is silent it fails fast (one warning) and asks again
 * every `reprobeMs`, instead of paying the full timeout on every fire.
 */
export class AuthorityClient implements RunCoordinator {
  private state: State;
  private probe: Promise<boolean> | undefined;
  private lastProbeAt = -Infinity;
  private silentSince = 0;
  private warned = false;
  private closedReason = '';
  /** Replies matched so far; a request that times out after a later one was answered was lost, not unanswered. */
  private answers = 0;
  private readonly pending = new Map<string, Pending>();
  /** Fires this process won whose completion the authority wants to hear about. */
  private readonly toComplete = new Set<string>();
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
    this.state = options.verified ? 'up' : 'probing';
    channel.once('disconnect', () => this.close('the IPC channel to the authority is closed'));
    if (!options.verified) this.startProbe();
  }

  async shouldRun(key: string, ttlMs: number): Promise<boolean> {
    await this.ready();
    const reply = await this.request({ kind: 'elect', key, ttlMs, slot: slotOfKey(key) });
    if (reply.elected === true && reply.complete === true) this.toComplete.add(key);
    return reply.elected === true;
  }

  async onComplete(key: string): Promise<void> {
    if (!this.toComplete.delete(key) || this.state !== 'up') return;
    await this.request({ kind: 'complete', key });
  }

  private async ready(): Promise<void> {
    if (this.state === 'probing' && (await this.probe)) return;
    if (this.state === 'up') return;
    if (this.state === 'closed') throw new Error(`fleetcron authority unavailable: ${this.closedReason}`);
    const now = this.now();
    if (now - this.lastProbeAt >= this.reprobeMs) this.startProbe();
    if (!this.warned && now - this.silentSince >= this.warnAfterMs) {
      this.warned = true;
      this.options.logger.warn(
        `no fleetcron authority has answered for ${Math.round((now - this.silentSince) / 1000)} s: ${this.options.missing}. ` +
          `Distributed fires are skipped (coordinator-error) until it answers; asking again every ${this.reprobeMs} ms.`,
      );
    }
    throw new Error(`no fleetcron authority is answering; ${this.options.missing}`);
  }

  private startProbe(): void {
    this.lastProbeAt = this.now();
    this.probe = this.request({ kind: 'hello' }, this.probeTimeoutMs).then(
      () => {
        if (this.state === 'closed') return false;
        if (this.warned) this.options.logger.info('fleetcron authority is answering again; distributed fires are elected again');
        this.warned = false;
        this.state = 'up';
        return true;
      },
      () => false,
    );
  }

  private markDown(): void {
    if (this.state === 'closed' || this.state === 'down') return;
    this.state = 'down';
    this.silentSince = this.now();
  }

  private close(reason: string): void {
    this.state = 'closed';
    this.closedReason = reason;
    for (const id of [...this.pending.keys()]) this.take(id)?.reject(new Error(`fleetcron authority unavailable: ${reason}`));
  }

  private request(body: RequestBody, timeoutMs = this.timeoutMs): Promise<Reply> {
    const send = this.channel.send;
    if (this.state === 'closed' || !send) return Promise.reject(new Error(`fleetcron authority unavailable: ${this.closedReason || 'no IPC channel'}`));
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
      const pending: Pending = { resolve, reject, timer };
      if (this.pending.size === 0) this.channel.on('message', this.onMessage);
      this.pending.set(id, pending);
      try {
        send.call(this.channel, envelope(data), (error) => {
          if (error) this.take(id)?.reject(new Error(`fleetcron authority unreachable: ${error.message}`));
        });
      } catch (error) {
        this.take(id)?.reject(new Error(`fleetcron authority unreachable: ${(error as Error).message}`));
      }
    });
  }

  /** Removes a pending request, if it still waits, and stops listening when none is left. */
  private take(id: string): Pending | undefined {
    const pending = this.pending.get(id);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(id);
    // Listening only while a request waits keeps the IPC channel from holding the process open.
    if (this.pending.size === 0) this.channel.off('message', this.onMessage);
    return pending;
  }

  private readonly onMessage = (message: unknown): void => {
    const data = openEnvelope(message);
    const reply = data && parseReply(data);
    if (!reply) return;
    // Late replies, duplicates and replies meant for an earlier incarnation find nothing pending.
    const pending = this.take(reply.id);
    if (!pending) return;
    this.answers++;
    if (reply.ok) pending.resolve(reply);
    else pending.reject(new Error(`fleetcron authority refused the request (${reply.error?.code ?? 'error'}): ${reply.error?.message ?? 'no reason given'}`));
  };
}
