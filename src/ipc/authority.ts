import { hostName, randomUUID } from '../builtins.js';
import { callBounded } from '../coordination/bounded.js';
import { complete, elect, type Election as Outcome } from '../coordination/election.js';
import { MemoryRunCoordinator } from '../coordination/memory.js';
import { ELECTIONS, OutageLog } from '../coordination/outage-log.js';
import { processLocalKind } from '../coordination/process-local.js';
import { isFireBackend, type ClaimAnswer, type ClaimRequest, type FireBackend, type TaskState, type Trigger } from '../coordination/records/backend.js';
import type { FireOutcome, FireRecord, HistoryOptions } from '../coordination/records/fire-record.js';
import { isTracking, type TrackingCoordinator } from '../coordination/tracking.js';
import { globalLogger } from '../logger.js';
import type { Logger, RunCoordinator } from '../types.js';
import { HostFire, type Ask, type Loss, type PeerId, type Verdict } from './host-fire.js';
import { Batcher } from './batcher.js';
import { nameOfKey, parseRequest, PROTOCOL, slotOfKey, VERSION, type Election, type ErrorCode, type LostNotice, type Notice, type Reply } from './protocol.js';
import { TriggerWatch } from './trigger-watch.js';
import { LeaseKeeper } from './lease-keeper.js';
import { PendingEnds } from './pending-ends.js';

export type { PeerId, Verdict } from './host-fire.js';

/** A process that asks this authority, as its transport knows it. */
export interface Peer {
  /** Unique among the live peers of this authority. */
  readonly id: PeerId;
  /** Its process id, when the transport knows it: the holder its fires are recorded under. */
  readonly pid?: number;
  /** Delivers an unsolicited notice; a peer that cannot take any is simply not told. */
  notify?(notice: Notice): void;
}

export interface AuthorityOptions {
  /** Where the host's winner is confirmed (Redis, env-var runner, the authority above, …); none means host-local election. */
  upstream?: RunCoordinator;
  /** Bound on each upstream call. */
  electionTimeoutMs?: number;
  /** Where a fire that ran nowhere, or whose run was lost, is reported (one error line per fire). */
  logger?: Logger;
  /** The longest lease (`ttlMs`) a request may ask for. Default 24 h. */
  maxLeaseMs?: number;
  /** How many fires the authority follows at once; past it, new fires are refused. Default 100 000. */
  maxFires?: number;
  /**
   * At most this many claims, or ends, in one call to a backend that keeps records (those of one turn of the event
   * loop go together); 1 sends each on its own. Default 500.
   */
  maxBatch?: number;
  /** How often the fire records are asked for triggers while a process here runs triggered fires, in ms. Default 1000. */
  triggerPollMs?: number;
  now?: () => number;
}

const DEFAULT_ELECTION_TIMEOUT_MS = 5000;
const DEFAULT_MAX_LEASE_MS = 24 * 60 * 60 * 1000;
const DEFAULT_MAX_FIRES = 100_000;
const DEFAULT_TRIGGER_POLL_MS = 1000;
/** Unanswered claims remembered for a retry, at most. */
const MAX_UNANSWERED = 10_000;
/** A held answer never waits longer than this, whatever the requester says. */
const MAX_WAIT_MS = 60_000;
/** Scope and key are joined with a control character, which distributed task names may not contain. */
export const SCOPE_SEPARATOR = '\u001f';

/**
 * Decides elections for every process that asks it — the workers of a host, a daemon's parent — whatever the
 * transport, and follows each fire it granted until its holder has started and ended it (DESIGN §8, at the host).
 * The first request for a fire holds it and only that one goes upstream, so N workers cost one upstream call per
 * fire. The others' answers wait until the holder has started (they lost), or has given the fire up — stopped,
 * shut down, past its limit, too late, exited, unreachable — in which case the first of them still within its
 * tolerance runs it instead. A fire nobody can take is reported: each asker hears of it, and this authority logs
 * one error naming the fire and the cause. A fire's record outlives its run, so a late request still loses.
 */
export class Authority {
  readonly id = randomUUID();
  private readonly startedAt: number;
  private readonly fires = new Map<string, HostFire>();
  private readonly peers = new Map<PeerId, Peer>();
  private sweepAt = 64;
  /** Claims sent to a backend that keeps records; the n-th claim's id is `${id}:${n}`, unique to this incarnation. */
  private claims = 0;
  /** The claim ids of fires whose claim got no answer (backend out), by fire, oldest first. */
  private readonly unanswered = new Map<string, string>();
  private readonly upstreamOutage: OutageLog;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly maxLeaseMs: number;
  private readonly maxFires: number;
  /** Without a shared upstream, a fire planned before this authority existed may already have a winner. */
  private readonly remembersNothing: boolean;
  /** The upstream, when it follows fires past their election too (the authority above this one). */
  private readonly tracking: TrackingCoordinator | undefined;
  /**
   * Where this host's fires are recorded: the upstream when it keeps records (Redis, PostgreSQL), records in
   * memory when there is no upstream (host-local election); none for a plain RunCoordinator.
   */
  private readonly records: { backend: FireBackend; claims: Batcher<ClaimRequest, ClaimAnswer>; leases: LeaseKeeper; ends: PendingEnds } | undefined;
  /** The processes that run triggered fires, and the poll of the records that tells them. */
  private readonly triggers: TriggerWatch | undefined;

  constructor(private readonly options: AuthorityOptions) {
    this.now = options.now ?? (() => Date.now());
    this.startedAt = this.now();
    this.logger = options.logger ?? globalLogger;
    this.upstreamOutage = new OutageLog(this.logger, 'fleetcron', ELECTIONS('the upstream coordinator'));
    this.maxLeaseMs = options.maxLeaseMs ?? DEFAULT_MAX_LEASE_MS;
    this.maxFires = options.maxFires ?? DEFAULT_MAX_FIRES;
    const { upstream } = options;
    this.remembersNothing = !upstream || processLocalKind(upstream) !== undefined;
    this.tracking = upstream && isTracking(upstream) ? upstream : undefined;
    const backend = upstream ? (isFireBackend(upstream) ? upstream : undefined) : new MemoryRunCoordinator({ now: this.now });
    this.records = backend && {
      backend,
      claims: new Batcher((requests) => backend.claim(requests), options.maxBatch),
      leases: new LeaseKeeper(backend, this.timeout(), this.now),
      ends: new PendingEnds(backend, this.timeout(), this.now, options.maxBatch),
    };
    const source = backend ? { backend } : this.tracking && { upstream: this.tracking };
    this.triggers = source && new TriggerWatch(source, options.triggerPollMs ?? DEFAULT_TRIGGER_POLL_MS, this.logger, (trigger) => this.announce(trigger));
  }

  /**
   * Asks for an extra fire of the task now, fleet-wide (host-wide for host-local records): one process that has the
   * task runs it, with `ctx.triggered`. Resolves with the fire's slot once it is recorded.
   */
  async trigger(task: string, scope = ''): Promise<number> {
    const slot = await this.withRecords('trigger', (backend) => backend.trigger(scopedKey(scope, task)));
    this.triggers?.pollSoon();
    return slot;
  }

  /** Stops asking the records for triggers; the authority still answers. */
  close(): void {
    this.triggers?.close();
  }

  /** Each process of the trigger's scope that runs triggered fires is told; its tasks of that name claim the fire. */
  private announce({ task, slot }: Trigger): void {
    const [scope, name] = splitScoped(task);
    const notice: Notice = { proto: PROTOCOL, v: VERSION, kind: 'trigger', key: `${name}:${new Date(slot).toISOString()}` };
    for (const peer of this.triggers!.audience(scope)) peer.notify?.(notice);
  }

  /** The latest records of a task's fires, newest first: what this host's backend (or its memory) holds. */
  history(task: string, options?: HistoryOptions): Promise<FireRecord[]> {
    return this.records ? this.records.backend.history(task, options) : Promise.resolve([]);
  }

  /** Pauses the task fleet-wide (host-wide for host-local records): its fires are skipped with reason `paused`. */
  pause(task: string): Promise<void> {
    return this.withRecords('pause', (backend) => backend.pause(task));
  }

  resume(task: string): Promise<void> {
    return this.withRecords('resume', (backend) => backend.resume(task));
  }

  taskState(task: string): Promise<TaskState> {
    return this.withRecords('taskState', (backend) => backend.taskState(task));
  }

  private withRecords<T>(what: string, call: (backend: FireBackend) => Promise<T>): Promise<T> {
    if (this.records) return call(this.records.backend);
    return Promise.reject(new Error(`${what}: this authority's upstream keeps no fire records (use RedisLockCoordinator, PostgresRunCoordinator or host-local election)`));
  }

  /** How many fires are followed now. */
  get size(): number {
    return this.fires.size;
  }

  /** Answers one request (the `data` of a fleetcron message) of `peer`; undefined when there is nobody to answer. */
  async handle(data: Record<string, unknown>, peer: Peer, scope = ''): Promise<Reply | undefined> {
    const id = typeof data.id === 'string' ? data.id : undefined;
    const parsed = parseRequest(data);
    if (!parsed.ok) return id === undefined ? undefined : this.reply(id, { code: parsed.code, message: parsed.message });
    const request = parsed.value;
    switch (request.kind) {
      case 'hello':
        return this.reply(request.id);
      case 'subscribe':
        this.subscribe(peer, request.on, scope);
        return this.reply(request.id);
      case 'elect': {
        const verdict = await this.elect(request, peer, scope);
        if ('error' in verdict) return this.reply(request.id, { code: 'coordinator-error', message: verdict.error });
        const { elected, fencingToken, last, refused } = verdict;
        return this.reply(request.id, undefined, { elected, ...(fencingToken === undefined ? {} : { fencingToken }), ...(last ? { last } : {}), ...(refused ? { refused } : {}) });
      }
      case 'started':
        this.started(request.key, peer, scope);
        return this.reply(request.id);
      case 'release':
        return this.reply(request.id, undefined, { handedOver: await this.release(request.key, request.cause, peer, scope) });
      case 'complete': {
        const failure = await this.complete(request.key, peer, scope, request.outcome);
        return failure === undefined ? this.reply(request.id) : this.reply(request.id, { code: 'coordinator-error', message: `the upstream onComplete failed: ${describe(failure)}` });
      }
    }
  }

  /** Who runs fire `key`: `peer`, or another process; resolves once that is known for `peer`. */
  elect(election: Election, peer: Peer, scope = ''): Promise<Verdict> {
    const { key, ttlMs, slot, deadline, waitMs } = election;
    const now = this.now();
    if (ttlMs > this.maxLeaseMs) {
      return Promise.resolve({ error: `fire ${key} asks for a lease of ${ttlMs} ms; this authority accepts at most ${this.maxLeaseMs} ms (maxLeaseMs)` });
    }
    if (this.remembersNothing && slot !== undefined && slot < this.startedAt) {
      // Nobody can say the fire did not run: an optional one is not run, a fire of the schedule is an error.
      if (election.optional) return Promise.resolve({ elected: false });
      return Promise.resolve({
        error: `fire ${key} was planned before this authority started (${new Date(this.startedAt).toISOString()}); a previous authority may have elected it`,
      });
    }
    this.peers.set(peer.id, peer);
    const fireDeadline = Math.min(deadline ?? now, now + this.maxLeaseMs);
    const wait = Math.min(Math.max(waitMs ?? 0, 0), MAX_WAIT_MS);
    const id = scopedKey(scope, key);
    let fire = this.fires.get(id);
    if (fire?.forgettable(now)) {
      this.fires.delete(id);
      fire = undefined;
    }
    return new Promise<Verdict>((resolve) => {
      const ask: Ask = { peer: peer.id, deadline: fireDeadline, resolve };
      if (!fire) {
        if (!this.roomFor(now)) {
          resolve({ error: `this authority already follows ${this.fires.size} fires (maxFires ${this.maxFires}); fire ${key} is refused` });
          return;
        }
        this.open(id, key, scope, ask, Math.max(now + ttlMs, fireDeadline + wait), election);
        return;
      }
      const current = fire;
      current.ask(ask, now);
      if (ask.answered) return;
      ask.timer = setTimeout(() => current.holdExpired(ask), Math.max(0, Math.min(fireDeadline, now + wait) - now));
      ask.timer.unref();
    });
  }

  /** `peer` runs triggered fires (`on`), or no longer: it is told of each trigger of its scope. */
  subscribe(peer: Peer, on: boolean, scope = ''): void {
    this.triggers?.subscribe(peer, on, scope);
  }

  /** The holder of fire `key` has started its run. */
  started(key: string, peer: Peer, scope = ''): void {
    const id = scopedKey(scope, key);
    const fire = this.fires.get(id);
    if (!fire?.started(peer.id)) return;
    this.tracking?.started(id);
    this.keepLease(id, fire, peer);
  }

  /** A recorded claim is renewed while its run goes on; if it is lost, the run's holder is told to stop. */
  private keepLease(id: string, fire: HostFire, peer: Peer): void {
    const slot = slotOfKey(id);
    const { fencingToken, leaseMs } = fire;
    if (!this.records || fencingToken === undefined || slot === undefined) return;
    const lease = {
      task: nameOfKey(id),
      slot,
      fencingToken,
      leaseMs,
      renewed: (until: number) => (fire.expiresAt = Math.max(fire.expiresAt, until)),
      revoke: (cause: string) => {
        this.logger.error(`fleetcron: the run of fire ${fire.label} no longer holds its claim: ${cause}; its holder is told to stop (ctx.signal)`);
        peer.notify?.({ proto: PROTOCOL, v: VERSION, kind: 'revoked', key: fire.key, cause });
      },
    };
    this.records.leases.keep(id, lease, fire.claimedAt + leaseMs);
  }

  /** The holder of fire `key` cannot run it; resolves true when another process took it over. */
  release(key: string, cause: string, peer: Peer, scope = ''): Promise<boolean> {
    const id = scopedKey(scope, key);
    const fire = this.fires.get(id);
    if (!fire) return Promise.resolve(false);
    return new Promise<boolean>((settle) => this.giveUp(fire, id, peer.id, cause, settle));
  }

  /** Records how the fire ended, or passes its completion upstream; resolves with the upstream's error, if it failed. */
  complete(key: string, peer: Peer, scope = '', outcome?: FireOutcome): Promise<unknown> {
    const id = scopedKey(scope, key);
    const fire = this.fires.get(id);
    if (fire?.ended(peer.id)) this.records?.leases.stop(id);
    const now = this.now();
    return this.completeUpstream(id, fire, outcome ?? { state: 'succeeded', startedAt: now, endedAt: now });
  }

  /** `peer` exited, disconnected or could not be reached: the fires it held before running them are handed on. */
  peerGone(peerId: PeerId, cause: string): void {
    this.triggers?.forget(peerId);
    if (!this.peers.delete(peerId)) return;
    for (const [id, fire] of this.fires) {
      const outcome = fire.gone(peerId, cause);
      if (outcome === 'release') this.giveUp(fire, id, peerId, cause, () => undefined);
      else if (outcome) this.report(fire, id, outcome.loss);
    }
  }

  private open(id: string, key: string, scope: string, first: Ask, expiresAt: number, election: Election): void {
    const fire = new HostFire(key, scope ? `${key} (${scope})` : key, first, expiresAt, this.now(), election.ttlMs);
    this.fires.set(id, fire);
    this.upstreamElection(id, election, first.peer).then((outcome) => {
      this.upstreamHealth(fire, outcome);
      fire.decide(toVerdict(outcome));
      if (fire.state === 'granted' && fire.goneWhileElecting !== undefined) this.giveUp(fire, id, fire.holder, fire.goneWhileElecting, () => undefined);
    });
  }

  /**
   * The holder gives fire `id` up. A waiting asker of this host takes it, else the upstream is asked to hand it
   * on when it can, else it waits for a late asker until the holder's deadline; then it is lost.
   */
  private giveUp(fire: HostFire, id: string, peer: PeerId, cause: string, settle: (handedOver: boolean) => void): void {
    const { tracking } = this;
    const previous = fire.holder;
    const result = fire.release(peer, cause, this.now(), !tracking, settle);
    if (result === 'not-held') return settle(false);
    if (result === 'handed-over') {
      this.logger.info(`fleetcron: fire ${fire.label} handed over from ${previous} to ${fire.holder}: ${cause}`);
      return;
    }
    if (tracking) {
      tracking.release(id, cause).then(
        (handedOn) => (handedOn ? fire.handedOn() : this.lose(fire, id)),
        () => this.lose(fire, id),
      );
      return;
    }
    const timer = setTimeout(() => this.lose(fire, id), Math.max(0, fire.orphanDeadline - this.now()));
    timer.unref();
  }

  /** One error line when the upstream starts failing, one when it answers again, with the fires skipped meanwhile. */
  private upstreamHealth(fire: HostFire, outcome: Outcome): void {
    if (!outcome.elected && outcome.reason === 'coordinator-error') this.upstreamOutage.failed(fire.label, outcome.error);
    else this.upstreamOutage.succeeded();
  }

  /**
   * The fire's end: into its record when this host's claim of it is recorded, else to the upstream's onComplete,
   * if it has one. Resolves with the error of either, if it failed.
   */
  private completeUpstream(id: string, fire: HostFire | undefined, outcome: FireOutcome): Promise<unknown> {
    const slot = slotOfKey(id);
    if (this.records && fire?.fencingToken !== undefined && slot !== undefined) {
      return this.records.ends.end(id, nameOfKey(id), slot, fire.fencingToken, outcome);
    }
    const { upstream } = this.options;
    return upstream ? complete(upstream, id, this.timeout(), outcome) : Promise.resolve(undefined);
  }

  private lose(fire: HostFire, id: string): void {
    const loss = fire.lose();
    if (loss) this.report(fire, id, loss);
  }

  /** One error line per lost fire, and a notice to every process that was told the fire was not its own. */
  private report(fire: HostFire, id: string, loss: Loss): void {
    this.records?.leases.stop(id);
    // Its record says so; a plain upstream hears of the end of a run that was lost (an unrun fire was released to it).
    if (loss.ran || this.records) {
      void this.completeUpstream(id, fire, { state: 'lost', endedAt: this.now(), cause: loss.ran ? `${fire.holder} ${loss.cause} while running it` : loss.cause });
    }
    this.logger.error(
      loss.ran
        ? `fleetcron: the run of fire ${fire.label} was lost: ${fire.holder} ${loss.cause} before it ended`
        : `fleetcron: fire ${fire.label} was not run: ${loss.cause}; no other process could take it within its tolerance`,
    );
    const notice: LostNotice = { proto: PROTOCOL, v: VERSION, kind: 'lost', key: fire.key, cause: loss.ran ? `${fire.holder} ${loss.cause} while running it` : loss.cause };
    if (loss.ran) notice.ran = true;
    for (const peerId of loss.told) this.peers.get(peerId)?.notify?.(notice);
  }

  private roomFor(now: number): boolean {
    if (this.fires.size < this.sweepAt && this.fires.size < this.maxFires) return true;
    for (const [id, fire] of this.fires) if (fire.forgettable(now)) this.fires.delete(id);
    this.sweepAt = Math.max(64, this.fires.size * 2);
    return this.fires.size < this.maxFires;
  }

  /** The upstream's decision, bounded by this authority's timeout and by the first asker's wait. */
  private upstreamElection(key: string, election: Election, asker: PeerId): Promise<Outcome> {
    const { ttlMs, slot = slotOfKey(key), deadline, waitMs, overlap, fleetMax, optional } = election;
    const timeoutMs = waitMs === undefined ? this.timeout() : Math.min(this.timeout(), Math.max(waitMs, 1));
    if (this.records && slot !== undefined) return this.recordedClaim(key, slot, { ttlMs, overlap, fleetMax }, timeoutMs, asker);
    const { upstream } = this.options;
    const watchUntil = (deadline ?? this.now()) + timeoutMs;
    // The authority above decides with its records, so the fire's policies go up with it.
    if (this.tracking) return elect(this.tracking, key, ttlMs, timeoutMs, { slot, deadline, waitMs, watchUntil, policy: { overlap, fleetMax, optional } });
    if (overlap !== undefined || fleetMax !== undefined) {
      const name = upstream?.constructor?.name ?? 'its coordinator';
      const error = new Error(`fire ${key} asks for a fleet-wide policy (overlap or fleetMaxExecutions), which needs fire records; this host's coordinator (${name}) keeps none: use RedisLockCoordinator, PostgresRunCoordinator or host-local election`);
      return Promise.resolve({ elected: false, reason: 'coordinator-error', error });
    }
    if (!upstream) return Promise.resolve({ elected: true });
    // The upstream may tell this process later that the fire ran nowhere, while the fire could still have started.
    return elect(upstream, key, ttlMs, timeoutMs, { slot, deadline, waitMs, watchUntil });
  }

  /** This host's claim of the fire, recorded, in the batch of its instant; lapsed fires it finds are reported. */
  private async recordedClaim(id: string, slot: number, claim: Pick<Election, 'ttlMs' | 'overlap' | 'fleetMax'>, timeoutMs: number, asker: PeerId): Promise<Outcome> {
    const { claims } = this.records!;
    const holder = { host: hostName(), pid: this.peers.get(asker)?.pid ?? process.pid, incarnation: this.id };
    const { ttlMs: leaseMs, overlap, fleetMax } = claim;
    // A fire claimed again after its claim went unanswered (a catch-up once the backend is back) is claimed with the
    // same id: if the first claim landed after all, it is won again rather than lost to itself and run nowhere.
    const claimId = this.unanswered.get(id) ?? `${this.id}:${++this.claims}`;
    const request: ClaimRequest = { task: nameOfKey(id), slot, leaseMs, holder, claimId };
    if (overlap) request.overlap = overlap;
    if (fleetMax !== undefined) request.fleetMax = fleetMax;
    try {
      const answer = await callBounded(() => claims.add(request), timeoutMs, `the claim of ${id}`);
      this.unanswered.delete(id);
      for (const record of answer.lost) this.reportLapsed(record, asker);
      if (answer.won) return { elected: true, fencingToken: answer.fencingToken, ...(fleetMax !== undefined && answer.runs >= fleetMax ? { last: true } : {}) };
      return { elected: false, reason: answer.refused ?? 'not-elected' };
    } catch (error) {
      this.unanswered.set(id, claimId);
      if (this.unanswered.size > MAX_UNANSWERED) this.unanswered.delete(this.unanswered.keys().next().value!);
      return { elected: false, reason: 'coordinator-error', error };
    }
  }

  /**
   * A fire of the same task whose lease passed without an end, on any host: logged once (only the claim that found
   * it is told), and the process asking now emits `execution:lost` for it. Told before its answer, which it waits for.
   */
  private reportLapsed(record: FireRecord, asker: PeerId): void {
    const { holder } = record;
    const cause = `its holder (${holder.host}, pid ${holder.pid}) did not end it before its lease ran out at ${new Date(record.leaseUntil).toISOString()}`;
    const [scope, name] = splitScoped(record.task);
    const key = `${name}:${new Date(record.slot).toISOString()}`;
    this.logger.error(`fleetcron: the run of fire ${key}${scope ? ` (${scope})` : ''} was lost: ${cause}`);
    this.peers.get(asker)?.notify?.({ proto: PROTOCOL, v: VERSION, kind: 'lost', key, cause, ran: true, remote: true });
  }

  private timeout(): number {
    return this.options.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT_MS;
  }

  private reply(id: string, error?: { code: ErrorCode; message: string }, fields?: Pick<Reply, 'elected' | 'fencingToken' | 'last' | 'refused' | 'handedOver'>): Reply {
    const reply: Reply = { proto: PROTOCOL, v: VERSION, kind: 'reply', id, ok: error === undefined, authority: { id: this.id, pid: process.pid }, ...fields };
    if (error) reply.error = error;
    return reply;
  }
}

/** A recorded task name as `[scope, name]` (scope '' when there is none). */
function splitScoped(task: string): [string, string] {
  const at = task.lastIndexOf(SCOPE_SEPARATOR);
  return at < 0 ? ['', task] : [task.slice(0, at), task.slice(at + 1)];
}

/** The key a scoped request is known by, here and upstream: unambiguous, since names hold no control character. */
export function scopedKey(scope: string, key: string): string {
  return scope ? `${scope}${SCOPE_SEPARATOR}${key}` : key;
}

function toVerdict(election: Outcome): Verdict {
  if (!election.elected && election.reason === 'coordinator-error') return { error: `the upstream coordinator failed: ${describe(election.error)}` };
  if (election.elected) {
    const { fencingToken, last } = election;
    return { elected: true, ...(fencingToken === undefined ? {} : { fencingToken }), ...(last ? { last } : {}) };
  }
  const { reason } = election;
  return reason === 'not-elected' ? { elected: false } : { elected: false, refused: reason };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
