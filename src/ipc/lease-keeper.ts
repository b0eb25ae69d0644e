import { callBounded } from '../coordination/bounded.js';
import type { FireBackend } from '../coordination/records/backend.js';

/** A running fire whose claim is recorded: what renewing it needs. */
export interface KeptLease {
  task: string;
  slot: number;
  fencingToken: number;
  leaseMs: number;
  /** The claim is gone (refused, or failing past its lease): the run should stop. */
  revoke(cause: string): void;
  /** Each renewal: the lease now holds until `until`. */
  renewed(until: number): void;
}

/**
 * Renews the claims of runs still going when half their lease has passed, so a long run keeps its fire for as long
 * as it runs — and only such runs cost a renewal. A refused renewal revokes the run at once; failing ones are retried
 * until the lease has passed, then the run is revoked too: another host may take the task's next fire on a view
 * that no longer includes this one.
 */
export class LeaseKeeper {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly backend: FireBackend,
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {}

  /** Starts renewing fire `id`, whose lease holds until `until`. */
  keep(id: string, lease: KeptLease, until: number): void {
    this.stop(id);
    this.schedule(id, lease, until, Math.max(1, (until - this.now()) / 2));
  }

  stop(id: string): void {
    clearTimeout(this.timers.get(id));
    this.timers.delete(id);
  }

  private schedule(id: string, lease: KeptLease, until: number, delayMs: number): void {
    const timer = setTimeout(() => void this.renew(id, lease, until), delayMs);
    timer.unref();
    this.timers.set(id, timer);
  }

  private async renew(id: string, lease: KeptLease, until: number): Promise<void> {
    const { backend } = this;
    let renewed: boolean;
    try {
      // Bounded by what is left of the lease too: a renewal still unanswered when it runs out comes too late.
      const bound = Math.max(1, Math.min(this.timeoutMs, until - this.now()));
      renewed = await callBounded(() => backend.renew(lease.task, lease.slot, lease.fencingToken, lease.leaseMs), bound, `renewal of ${id}`);
    } catch (error) {
      if (!this.timers.has(id)) return;
      const now = this.now();
      if (now >= until) return this.revoke(id, lease, `its lease could not be renewed before it ran out (${error instanceof Error ? error.message : String(error)})`);
      return this.schedule(id, lease, until, Math.min(1000, Math.max(1, (until - now) / 4)));
    }
    if (!this.timers.has(id)) return;
    if (!renewed) return this.revoke(id, lease, 'the renewal of its lease was refused: the claim had lapsed or belongs to another holder');
    const next = this.now() + lease.leaseMs;
    lease.renewed(next);
    this.schedule(id, lease, next, lease.leaseMs / 2);
  }

  private revoke(id: string, lease: KeptLease, cause: string): void {
    this.stop(id);
    lease.revoke(cause);
  }
}
