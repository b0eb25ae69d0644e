import type { Refusal } from '../coordination/records/backend.js';

/** The process that asked for a fire, as its transport names it (`worker 3 (pid 812)`, `PM2 process 4`, …). */
export type PeerId = string;

/**
 * What one requester is told about one fire. A win may carry the fencing token of the host's claim (a backend that
 * keeps records gives one); `refused`, `last` say what the records said besides won or lost (only the first asker
 * hears `paused` or `overlap`: its process reports the fire).
 */
export type Verdict = { elected: boolean; fencingToken?: number; last?: boolean; refused?: Refusal } | { error: string };

/** A request for a fire, waiting for its verdict. Plain data, no closure: a fire may be followed for its whole lease. */
export interface Ask {
  peer: PeerId;
  /** The last instant at which the asker can still start the fire. */
  deadline: number;
  resolve(verdict: Verdict): void;
  /** Bounds how long a held answer waits. */
  timer?: NodeJS.Timeout;
  answered?: boolean;
}

/** Answers an ask once. */
export function answer(ask: Ask, verdict: Verdict): void {
  if (ask.answered) return;
  ask.answered = true;
  clearTimeout(ask.timer);
  ask.resolve(verdict);
}

/**
 * - `electing`: the first asker holds the fire while the upstream decides;
 * - `granted`: the holder was told to run it and has not started yet;
 * - `running`, `ended`: the holder said so;
 * - `declined`, `failed`: the upstream gave the fire to another host, or could not decide;
 * - `orphaned`: the holder gave the fire up and nobody has taken it yet;
 * - `handed-on`: given up here, taken over beyond this authority (its upstream handed it to another process);
 * - `lost`: given up or its holder gone, and nobody took it.
 */
export type FireState = 'electing' | 'granted' | 'running' | 'ended' | 'declined' | 'failed' | 'orphaned' | 'handed-on' | 'lost';

/** A fire that was not run, or not ended: who must hear of it. */
export interface Loss {
  cause: string;
  /** It had started: its holder died or was cut off while running it. */
  ran: boolean;
  /** The peers told it was not theirs, which now learn it ran nowhere. */
  told: PeerId[];
}

/**
 * One fire's life at a host authority, from the first request to its end: who holds it, who else asked, and who
 * was answered what. The first asker holds it; the others' answers are held until the holder has started the run
 * (then they lost), gave it up (then the first of them still within its deadline takes it over) or is gone.
 * Pure: the authority brings time, timers and I/O.
 */
export class HostFire {
  state: FireState = 'electing';
  /** The first request, until the upstream has decided it. */
  private first: Ask | undefined;
  holder: PeerId;
  private holderDeadline: number;
  // Both made on first use: most fires have one asker on most hosts, and a fire is followed for its whole lease.
  private waiting: Ask[] | undefined;
  private told: Set<PeerId> | undefined;
  private error = '';
  private orphanCause = '';
  /** Settles the release that orphaned the fire: true once somebody took it over. */
  private settleRelease: ((handedOver: boolean) => void) | undefined;
  /** An orphan may be taken by a late asker of this host (not while the upstream is asked to hand it on). */
  private lateTakers = true;
  /** The holder went away while the upstream was still deciding: a grant must be given up at once. */
  goneWhileElecting: string | undefined;
  /** Declined as `buffered`: asked again by its first asker, so forgotten at once like a failed one. */
  private retried = false;
  /** The token of the host's claim, when its upstream keeps records; whoever of the host runs the fire gets it. */
  fencingToken: number | undefined;

  constructor(
    /** The requester's key of the fire: `${task name}:${slot ISO}`. */
    readonly key: string,
    /** The fire as logs name it: its key, and the scope under PM2. */
    readonly label: string,
    first: Ask,
    /** The ledger forgets the fire after this instant. */
    public expiresAt: number,
    /** When the host's claim was asked for, and its lease: a recorded claim holds until then, unless renewed. */
    readonly claimedAt: number,
    readonly leaseMs: number,
  ) {
    this.first = first;
    this.holder = first.peer;
    this.holderDeadline = first.deadline;
  }

  /** Answers the first asker, and lets go of its request (the fire may be followed for its whole lease). */
  private answerFirst(verdict: Verdict): void {
    if (this.first) answer(this.first, verdict);
    this.first = undefined;
  }

  /** The upstream's decision for the first asker. */
  decide(verdict: Verdict): void {
    if (this.state !== 'electing') return;
    if ('error' in verdict) {
      this.state = 'failed';
      this.error = verdict.error;
      this.answerFirst(verdict);
      this.answerAll(verdict);
    } else if (verdict.elected) {
      this.state = 'granted';
      this.fencingToken = verdict.fencingToken;
      this.answerFirst(verdict);
    } else {
      this.state = 'declined';
      // The first asker asks again while its fire waits: each time the upstream is asked anew.
      this.retried = verdict.refused === 'buffered';
      this.answerFirst(verdict);
      // Every process stops its copy at the fleet's limit; a skipped fire is reported by the process that asked first.
      this.answerAll(verdict.refused === 'limit' ? verdict : { elected: false });
    }
  }

  /** Another request for the fire: held while the holder may still give it up, else answered at once. */
  ask(ask: Ask, now: number): void {
    switch (this.state) {
      case 'electing':
      case 'granted':
        (this.waiting ??= []).push(ask);
        return;
      case 'orphaned':
        if (this.lateTakers && ask.deadline >= now) this.grant(ask, true);
        else this.tell(ask);
        return;
      case 'failed':
        answer(ask, { error: this.error });
        return;
      case 'lost':
        answer(ask, { error: `fire ${this.label} was lost: ${this.orphanCause}` });
        return;
      default:
        this.tell(ask);
    }
  }

  /** A held answer has waited as long as its asker waits: it lost (the holder may still run the fire). */
  holdExpired(ask: Ask): void {
    const index = this.waiting?.indexOf(ask) ?? -1;
    if (index === -1) return;
    this.waiting!.splice(index, 1);
    this.tell(ask);
  }

  /** The holder started its run: everyone still waiting lost. */
  started(peer: PeerId): boolean {
    if (peer !== this.holder || this.state !== 'granted') return false;
    this.state = 'running';
    this.answerAll({ elected: false });
    return true;
  }

  ended(peer: PeerId): boolean {
    if (peer !== this.holder || (this.state !== 'running' && this.state !== 'granted')) return false;
    this.state = 'ended';
    this.answerAll({ elected: false });
    return true;
  }

  /**
   * The holder gives the fire up before running it. The first waiting asker still within its deadline takes it
   * over ('handed-over'); with none, the fire is orphaned until a late asker takes it, or the authority gives
   * up on it (`lose`) or hands it on upstream (`handedOn`; then `lateTakers` is false). `settle` learns in the end
   * whether anybody took it.
   */
  release(peer: PeerId, cause: string, now: number, lateTakers: boolean, settle: (handedOver: boolean) => void): 'handed-over' | 'orphaned' | 'not-held' {
    if (peer !== this.holder || this.state !== 'granted') return 'not-held';
    const next = this.takeWaiting(now);
    if (next) {
      this.grant(next, false);
      settle(true);
      return 'handed-over';
    }
    this.state = 'orphaned';
    this.orphanCause = cause;
    this.lateTakers = lateTakers;
    this.settleRelease = settle;
    return 'orphaned';
  }

  /** Until when an orphaned fire may still be taken by a late asker of this host. */
  get orphanDeadline(): number {
    return this.holderDeadline;
  }

  /** An orphan was taken over beyond this authority. */
  handedOn(): void {
    if (this.state !== 'orphaned') return;
    this.state = 'handed-on';
    this.settleRelease?.(true);
    this.settleRelease = undefined;
  }

  /** Nobody took the orphan: it is lost. */
  lose(): Loss | undefined {
    if (this.state !== 'orphaned') return undefined;
    this.state = 'lost';
    this.settleRelease?.(false);
    this.settleRelease = undefined;
    return { cause: this.orphanCause, ran: false, told: [...(this.told ?? [])] };
  }

  /**
   * `peer` is gone (exited, disconnected, unreachable). Its waiting requests are dropped. Holding the fire
   * before its run, it gives it up as by `release`; holding it while running, the run is lost.
   */
  gone(peer: PeerId, cause: string): 'release' | { loss: Loss } | undefined {
    this.waiting = this.waiting?.filter((ask) => ask.peer !== peer);
    this.told?.delete(peer);
    if (peer !== this.holder) return undefined;
    if (this.state === 'electing') {
      this.goneWhileElecting = cause;
      return undefined;
    }
    if (this.state === 'granted') return 'release';
    if (this.state !== 'running') return undefined;
    this.state = 'lost';
    this.orphanCause = `${peer} ${cause} while running it`;
    return { loss: { cause, ran: true, told: [...(this.told ?? [])] } };
  }

  /**
   * Whether the authority may forget the fire: expired, and nothing about it is still awaited. A failed one, or one
   * declined as buffered, at once: nobody was told to run it, so a later request (a catch-up once the upstream is
   * back, a late process, the buffered fire's claimant asking again) asks the upstream anew.
   */
  forgettable(now: number): boolean {
    if (this.state === 'failed' || this.retried) return true;
    return now >= this.expiresAt && this.state !== 'electing' && this.state !== 'orphaned' && !this.waiting?.length;
  }

  private grant(ask: Ask, fromOrphan: boolean): void {
    this.holder = ask.peer;
    this.holderDeadline = ask.deadline;
    this.state = 'granted';
    answer(ask, this.fencingToken === undefined ? { elected: true } : { elected: true, fencingToken: this.fencingToken });
    if (fromOrphan) {
      this.settleRelease?.(true);
      this.settleRelease = undefined;
    }
  }

  private takeWaiting(now: number): Ask | undefined {
    while (this.waiting?.length) {
      const ask = this.waiting.shift()!;
      if (ask.deadline >= now) return ask;
      this.tell(ask);
    }
    return undefined;
  }

  private tell(ask: Ask): void {
    (this.told ??= new Set()).add(ask.peer);
    answer(ask, { elected: false });
  }

  private answerAll(verdict: Verdict): void {
    if (!this.waiting) return;
    for (const ask of this.waiting.splice(0)) {
      if ('elected' in verdict && !verdict.elected) this.tell(ask);
      else answer(ask, verdict);
    }
  }
}
