import type { FireOutcome } from '../coordination/records/fire-record.js';
import type { FireAsk, TrackingCoordinator } from '../coordination/tracking.js';
import type { Authority, Peer } from './authority.js';
import { slotOfKey } from './protocol.js';
import { TriggerHearers } from './trigger-hearers.js';

/** An authority in this very process, and the scope its local tasks are elected in. */
export interface LocalAuthority {
  authority: Authority;
  scope: string;
}

/**
 * Routes the elections of tasks living in the same process as their authority, without IPC: the tasks of a
 * node:cluster primary or PM2 app that serves its host, and those of a process whose coordinator keeps records
 * (a FireBackend), which an authority of its own follows fire by fire.
 */
export class InProcessRoute implements TrackingCoordinator {
  /** Fires won and not yet ended or given up, with their fencing tokens when recorded. */
  private readonly won = new Map<string, number | undefined>();
  private readonly hearers = new TriggerHearers();

  constructor(
    private readonly local: () => LocalAuthority | undefined,
    /** The tasks of this process, as the authority knows them. */
    private readonly self: Peer,
  ) {}

  async shouldRun(key: string, ttlMs: number, fire: FireAsk = {}): Promise<boolean> {
    const local = this.local();
    if (!local) throw new Error('this process stopped serving elections');
    const { slot = slotOfKey(key), deadline, waitMs, policy } = fire;
    const verdict = await local.authority.elect({ key, ttlMs, slot, deadline, waitMs, ...policy }, this.self, local.scope);
    if ('error' in verdict) throw new Error(verdict.error);
    fire.noted?.({ refused: verdict.refused, last: verdict.last === true });
    if (verdict.elected) this.won.set(key, verdict.fencingToken);
    return verdict.elected;
  }

  fencingTokenOf(key: string): number | undefined {
    return this.won.get(key);
  }

  started(key: string): void {
    const local = this.local();
    local?.authority.started(key, this.self, local.scope);
  }

  async release(key: string, cause: string): Promise<boolean> {
    this.won.delete(key);
    const local = this.local();
    return local ? local.authority.release(key, cause, this.self, local.scope) : false;
  }

  hearTriggers(on: boolean, relay?: (key: string) => void): void {
    if (this.hearers.change(on, relay)) this.resubscribe();
  }

  /** A trigger the authority announced to this process: its tasks hear it (deliverNotice), and the authorities below. */
  relay(key: string): void {
    this.hearers.relay(key);
  }

  /** Tells the authority now serving this process whether its tasks hear triggers. */
  resubscribe(): void {
    const local = this.local();
    local?.authority.subscribe(this.self, this.hearers.any, local.scope);
  }

  async onComplete(key: string, outcome?: FireOutcome): Promise<void> {
    this.won.delete(key);
    const local = this.local();
    const failure = await local?.authority.complete(key, this.self, local.scope, outcome);
    if (failure !== undefined) throw failure;
  }
}
