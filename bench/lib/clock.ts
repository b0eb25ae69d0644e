/**
 * The wall clock (Date.now) with sub-millisecond resolution: performance.now() anchored to Date.now(). Should the
 * two drift a millisecond apart (an NTP step or slew), it follows Date.now() again, to the millisecond.
 */
const ANCHOR_TICKS = 5;

/**
 * Date.now() − performance.now() read right at a tick of Date.now(). A reading delayed by preemption only comes out
 * lower, so the highest of a few ticks is the anchor.
 */
function anchor(): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < ANCHOR_TICKS; i++) {
    const start = Date.now();
    let tick = Date.now();
    while (tick === start) tick = Date.now();
    best = Math.max(best, tick - performance.now());
  }
  return best;
}

let offset = anchor();

export function wallNow(): number {
  const coarse = Date.now();
  const precise = offset + performance.now();
  // Read after `coarse`, so a right anchor gives at least `coarse`; the 0.1 allows a millisecond tick in between.
  if (precise >= coarse && precise < coarse + 1.1) return precise;
  offset = coarse + 0.5 - performance.now();
  return coarse + 0.5;
}

/** Resolves at the next instant `phaseMs` (0-999) past a whole second of the wall clock, with that instant. */
export function untilSecondPhase(phaseMs: number): Promise<number> {
  const now = Date.now();
  const target = Math.floor(now / 1000) * 1000 + phaseMs;
  return untilWall(target > now ? target : target + 1000);
}

/** Resolves once Date.now() has reached `target` (epoch ms), with `target`. */
export async function untilWall(target: number): Promise<number> {
  for (let left = target - Date.now(); left > 0; left = target - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, left));
  }
  return target;
}
