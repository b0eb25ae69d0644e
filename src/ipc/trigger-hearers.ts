/**
 * Who in this process hears the triggers a route to an authority brings: a count of its tasks that run triggered
 * fires, and the authorities below it (`relay`), which pass each trigger's key on to their own processes.
 */
export class TriggerHearers {
  private count = 0;
  private readonly relays = new Set<(key: string) => void>();

  /** Counts one more (`on`) or one fewer; true when that changed whether anyone hears. A count never goes below 0. */
  change(on: boolean, relay?: (key: string) => void): boolean {
    if (!on && this.count === 0) return false;
    if (relay) {
      if (on) this.relays.add(relay);
      else this.relays.delete(relay);
    }
    this.count += on ? 1 : -1;
    return this.count === (on ? 1 : 0);
  }

  get any(): boolean {
    return this.count > 0;
  }

  relay(key: string): void {
    for (const relay of this.relays) relay(key);
  }
}
