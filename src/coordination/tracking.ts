import type { RunCoordinator } from '../types.js';
import type { Refusal } from './records/backend.js';
import type { FireOutcome } from './records/fire-record.js';

/** The fleet-wide policies of a fire's claim, for a coordinator that keeps records. */
export interface FirePolicy {
  overlap?: 'skip' | 'buffer-one';
  fleetMax?: number;
  /** Not a fire of the schedule on time (a catch-up, a trigger): one the authority cannot vouch for is not run. */
  optional?: true;
}

/** What the records said besides won or lost: why a claim was refused, or that the win was the last one allowed. */
export interface ClaimNote {
  refused?: Refusal;
  last?: boolean;
}

/** What a task tells its coordinator about the fire it asks for. */
export interface FireAsk {
  /** The fire's planned instant. */
  slot?: number;
  /** The last instant at which this process can still start the fire. */
  deadline?: number;
  /** How long this process waits for the answer, in ms. */
  waitMs?: number;
  /** Until when this process can still hear that the fire, if it lost it, ran nowhere after all. */
  watchUntil?: number;
  /** Aborted when this process stops waiting for the answer. */
  signal?: AbortSignal;
  policy?: FirePolicy;
  /** Told, before the answer, what the records said besides won or lost. */
  noted?: (note: ClaimNote) => void;
}

/**
 * A coordinator that follows a fire past its election: the IPC client to a host authority, and that authority
 * in its own process. The task says when the run starts, or that it cannot run the fire it won (then another
 * process of the host may take it). A plain `RunCoordinator` gets neither call.
 */
export interface TrackingCoordinator extends RunCoordinator {
  shouldRun(key: string, ttlMs: number, fire?: FireAsk): Promise<boolean>;
  /** The fencing token of a fire this process won, when the fleet's records gave one. */
  fencingTokenOf(key: string): number | undefined;
  started(key: string): void;
  /** Gives a won fire up; resolves true when another process took it over. */
  release(key: string, cause: string): Promise<boolean>;
  /** The run of a won fire has ended, so: its record gets the outcome. */
  onComplete(key: string, outcome?: FireOutcome): Promise<void>;
  /**
   * A task of this process runs triggered fires (`true`), or one fewer does (`false`); counted. An authority below
   * this one passes `relay`, which hears the key of each trigger (its tasks are in other processes).
   */
  hearTriggers(on: boolean, relay?: (key: string) => void): void;
}

export function isTracking(coordinator: RunCoordinator): coordinator is TrackingCoordinator {
  const candidate = coordinator as Partial<TrackingCoordinator>;
  return typeof candidate.started === 'function' && typeof candidate.release === 'function';
}
