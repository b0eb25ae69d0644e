/**
 * Per-fire claims with a lease, in memory: the first claim of a key wins until its lease ends. Expired claims
 * are swept as the table grows, so memory stays proportional to the claims still alive. Pure: time is passed in.
 */
export class ClaimTable<V = true> {
  private readonly claims = new Map<string, { expiresAt: number; value: V }>();
  private sweepAt = 64;

  get size(): number {
    return this.claims.size;
  }

  /**
   * Claims `key` until `now + ttlMs` when it has no live claim at `now` (`won`, with the value `create` made);
   * otherwise the live claim stays and its value is returned.
   */
  claim(key: string, ttlMs: number, now: number, create: () => V): { won: boolean; value: V } {
    const held = this.claims.get(key);
    if (held !== undefined && held.expiresAt > now) return { won: false, value: held.value };
    const value = create();
    this.claims.set(key, { expiresAt: now + ttlMs, value });
    if (this.claims.size >= this.sweepAt) this.sweep(now);
    return { won: true, value };
  }

  sweep(now: number): void {
    for (const [key, held] of this.claims) {
      if (held.expiresAt <= now) this.claims.delete(key);
    }
    this.sweepAt = Math.max(64, this.claims.size * 2);
  }
}
