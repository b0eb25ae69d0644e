import type { RunCoordinator } from '../../types.js';
import type { FireOutcome, FireRecord, Holder, HistoryOptions } from './fire-record.js';

/** One fire to claim: task, planned instant, lease, and who asks. */
export interface ClaimRequest {
  task: string;
  slot: number;
  leaseMs: number;
  holder: Holder;
  /**
   * Unique to this claim. A claim that finds its own id on the record gets its answer again (the same token, or the
   * same refusal without a holder): the reply to the first try was lost and the client resent it. Any other claim
   * of a fire that has a record loses.
   */
  claimId: string;
  /**
   * `'skip'`: the fire is not run while another fire of the task is running anywhere (its lease not passed).
   * `'buffer-one'`: the first such fire waits instead (a `buffered` record, under this claim's lease) and any other
   * is skipped while it waits; the claimant asks again (same host and incarnation, any claim id) until it wins
   * once nothing runs, or keeps being told `buffered`, which renews its lease.
   */
  overlap?: 'skip' | 'buffer-one';
  /** The task runs at most this many times across the fleet: a claim finding that many won claims is refused. */
  fleetMax?: number;
}

/**
 * Why a claim of a fire without a record was refused. `paused` and `overlap` write the fire a `skipped` record, so
 * exactly one claim in the fleet is told (its process reports the fire); `limit` writes nothing and tells every claim;
 * `buffered`: the fire waits (`overlap: 'buffer-one'`), and its claimant is to ask again.
 */
export type Refusal = 'paused' | 'overlap' | 'limit' | 'buffered';

/**
 * The answer to one claim. `lost`: records of the same task whose lease lapsed without an end, found by this claim
 * and marked lost by it — each such record is returned by exactly one claim in the fleet, so it is reported once.
 */
export type ClaimAnswer =
  /** `runs`: the task's won claims across the fleet, this one included. */
  | { won: true; fencingToken: number; runs: number; lost: FireRecord[] }
  /** `holder`: of the fire's record, or with `overlap` of the fire still running. */
  | { won: false; holder: Holder | undefined; lost: FireRecord[]; refused?: Refusal };

/** A task's fleet-wide state, beside its records. */
export interface TaskState {
  paused: boolean;
  /** Won claims so far (what `fleetMax` counts); retention never lowers it. */
  runs: number;
}

/** How long a trigger is kept for the authorities to hear of it (`triggers`), in ms. */
export const TRIGGER_KEEP_MS = 60_000;

/** An extra fire of a task asked for by `trigger`: claimed like any fire by the processes that have the task. */
export interface Trigger {
  task: string;
  /** When it was asked for, by the backend's clock, in ms; never a whole second, so never a fire of a schedule. */
  slot: number;
}

/** How one fire ended, for the record of the claim with this fencing token. */
export interface FireEnd {
  task: string;
  slot: number;
  fencingToken: number;
  outcome: FireOutcome;
}

/**
 * A coordinator that remembers every fire: the backend half of fire accounting (DESIGN §8). Each call is one round
 * trip to the backend. A fire has at most one record, written by the claim that wins it and never deleted by its
 * end (it ages out by the backend's retention), so a fire that has a record is never claimed again.
 */
export interface FireBackend extends RunCoordinator {
  /** Claims each fire in one call; answers in the order asked. */
  claim(requests: readonly ClaimRequest[]): Promise<ClaimAnswer[]>;
  /** Extends a running fire's lease to now + `leaseMs`; false when the claim is no longer this token's (lapsed, lost, ended, taken). */
  renew(task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean>;
  /** Records how each fire ended, in one call; answers in order, false where the record is not that token's. */
  end(ends: readonly FireEnd[]): Promise<boolean[]>;
  /** The task's latest records, newest slot first. */
  history(task: string, options?: HistoryOptions): Promise<FireRecord[]>;
  /** Every process's claims of the task's fires are refused (`paused`) until `resume`; idempotent, for tasks not seen yet too. */
  pause(task: string): Promise<void>;
  resume(task: string): Promise<void>;
  taskState(task: string): Promise<TaskState>;
  /** Asks for an extra fire of the task now, from any process; resolves with its slot. Idempotent within a millisecond. */
  trigger(task: string): Promise<number>;
  /** The triggers of every task with a slot after `since`, oldest first, none older than TRIGGER_KEEP_MS. */
  triggers(since: number): Promise<Trigger[]>;
}

export function isFireBackend(coordinator: RunCoordinator): coordinator is FireBackend {
  const candidate = coordinator as Partial<FireBackend>;
  return ['claim', 'renew', 'end', 'history', 'pause', 'resume', 'taskState', 'trigger', 'triggers'].every((method) => typeof candidate[method as keyof FireBackend] === 'function');
}
