import type { FireBackend, Trigger } from '../coordination/records/backend.js';
import type { Logger } from '../types.js';
import type { Peer } from './authority.js';
import type { PeerId } from './host-fire.js';

/**
 * The processes of a host that run triggered fires, and the poll of the fire records that hears of triggers for
 * them: every `pollMs` while anyone subscribes, one call for all tasks, each trigger announced once. A trigger kept
 * by the records from before this authority started is announced too: if it ran elsewhere, its claim here loses.
 */
export class TriggerWatch {
  private readonly subscribers = new Map<PeerId, { peer: Peer; scope: string }>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private again = false;
  /** The latest slot announced, and the tasks announced at it. */
  private since = 0;
  private atSince = new Set<string>();
  private failing = false;
  private closed = false;

  constructor(
    private readonly backend: FireBackend,
    private readonly pollMs: number,
    private readonly logger: Logger,
    private readonly announce: (trigger: Trigger) => void,
  ) {}

  subscribe(peer: Peer, on: boolean, scope: string): void {
    if (this.closed) return;
    if (on) this.subscribers.set(peer.id, { peer, scope });
    else this.subscribers.delete(peer.id);
    this.schedule();
  }

  forget(peerId: PeerId): void {
    if (this.subscribers.delete(peerId)) this.schedule();
  }

  audience(scope: string): Peer[] {
    return [...this.subscribers.values()].filter((subscriber) => subscriber.scope === scope).map(({ peer }) => peer);
  }

  /** A trigger was just asked for here: poll now rather than at the next tick. */
  pollSoon(): void {
    if (this.timer) void this.poll();
  }

  close(): void {
    this.closed = true;
    this.subscribers.clear();
    this.schedule();
  }

  private schedule(): void {
    const wanted = this.subscribers.size > 0;
    if (wanted && !this.timer) {
      this.timer = setInterval(() => void this.poll(), this.pollMs);
      // The subscribers' own timers keep the process alive, not this poll.
      this.timer.unref();
      void this.poll();
    } else if (!wanted && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) {
      this.again = true;
      return;
    }
    this.polling = true;
    try {
      // From the latest slot seen, included: another task's trigger in that very millisecond may have come after.
      for (const trigger of await this.backend.triggers(this.since - 1)) {
        if (trigger.slot < this.since || (trigger.slot === this.since && this.atSince.has(trigger.task))) continue;
        if (trigger.slot > this.since) {
          this.since = trigger.slot;
          this.atSince = new Set();
        }
        this.atSince.add(trigger.task);
        this.announce(trigger);
      }
      if (this.failing) this.logger.info('fleetcron: the fire records answer the poll for triggers again');
      this.failing = false;
    } catch (error) {
      if (!this.failing) this.logger.warn(`fleetcron: could not ask the fire records for triggers (${error instanceof Error ? error.message : String(error)}); asking again each poll`);
      this.failing = true;
    } finally {
      this.polling = false;
    }
    if (this.again) {
      this.again = false;
      await this.poll();
    }
  }
}
