import type { FireBackend, Trigger } from '../coordination/records/backend.js';
import type { TrackingCoordinator } from '../coordination/tracking.js';
import type { Logger } from '../types.js';
import type { Peer } from './authority.js';
import type { PeerId } from './host-fire.js';
import { nameOfKey, slotOfKey } from './protocol.js';

/** Where an authority hears of triggers: its fire records, polled, or the authority above it, which relays them. */
export type TriggerSource = { backend: FireBackend } | { upstream: TrackingCoordinator };

/**
 * The processes of a host that run triggered fires, and how the authority hears of triggers for them while anyone
 * subscribes. From fire records: a poll every `pollMs`, one call for all tasks, each trigger announced once (one
 * kept from before this authority started too: if it ran elsewhere, its claim here loses). From the authority
 * above: its trigger notices, relayed.
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
  private relaying = false;

  constructor(
    private readonly source: TriggerSource,
    private readonly pollMs: number,
    private readonly logger: Logger,
    private readonly announce: (trigger: Trigger) => void,
  ) {}

  /** A trigger the authority above announced; its key is of this authority's scope there, so of its own tasks. */
  private readonly relayed = (key: string): void => {
    const slot = slotOfKey(key);
    if (slot !== undefined) this.announce({ task: nameOfKey(key), slot });
  };

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
    if ('upstream' in this.source) {
      if (wanted !== this.relaying) this.source.upstream.hearTriggers((this.relaying = wanted), this.relayed);
      return;
    }
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
      if (!('backend' in this.source)) return;
      for (const trigger of await this.source.backend.triggers(this.since - 1)) {
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
