/**
 * What a wake-up should do, decided from the planned fire and the wall clock alone: which fires were missed,
 * which one (if any) still runs, and which fire to wait for next. Pure, so it is tested with an injected clock.
 */
export interface FirePlan {
  /** Fires that can no longer run in time, oldest first. */
  missed: number[];
  /** The fire to run now, if one is due and still within tolerance. */
  run?: number;
  /** The next fire to wait for; null when the expression never fires again. */
  next: number | null;
  /** True when more fires were missed than `maxMissed` and the oldest ones are not listed. */
  truncated: boolean;
}

export type NextFire = (afterMs: number) => number | null;

/**
 * A fire runs when the wake-up is at most `toleranceMs` late and the fire after it has not arrived yet;
 * every older fire is missed, never run late. An early wake-up (wall clock behind the timer) runs nothing.
 */
export function planFire(expected: number, now: number, toleranceMs: number, nextAfter: NextFire, maxMissed = 1000): FirePlan {
  const missed: number[] = [];
  let truncated = false;
  let slot: number | null = expected;
  while (slot !== null && slot <= now) {
    const following = nextAfter(slot);
    if (now - slot <= toleranceMs && (following === null || now < following)) {
      return { missed, run: slot, next: following, truncated };
    }
    if (missed.length < maxMissed) {
      missed.push(slot);
      slot = following;
    } else {
      truncated = true;
      // Skip the unlisted backlog: resume at the first fire that may still be within tolerance.
      slot = nextAfter(Math.max(slot, now - toleranceMs - 1));
    }
  }
  return { missed, next: slot, truncated };
}

/** How long a coordinator call may take for a fire: half the gap to the next fire, within [100, 5000] ms. */
export function defaultElectionTimeout(slot: number, next: number | null): number {
  if (next === null) return 5000;
  return Math.min(5000, Math.max(100, Math.floor((next - slot) / 2)));
}

/** The latest fire in `[now - windowMs, now)`: the one a catch-up runs, if nobody has a record of it. */
export function latestFireWithin(windowMs: number, now: number, nextAfter: NextFire): number | undefined {
  let latest: number | undefined;
  for (let fire = nextAfter(now - windowMs - 1); fire !== null && fire < now; fire = nextAfter(fire)) latest = fire;
  return latest;
}
