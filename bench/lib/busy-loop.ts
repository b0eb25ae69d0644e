/** A reproducible busy event loop: every `periodMs`, a synchronous busy-wait of `minMs`-`maxMs` (seeded). */
export interface BusyLoad {
  periodMs: number;
  minMs: number;
  maxMs: number;
  seed: number;
}

export const DEFAULT_LOAD: BusyLoad = { periodMs: 50, minMs: 5, maxMs: 20, seed: 42 };

/** mulberry32: the same seed gives both libraries the same sequence of stalls. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Starts the load; returns the function that stops it. */
export function startBusyLoop(load: BusyLoad): () => void {
  const next = random(load.seed);
  const timer = setInterval(() => {
    const end = performance.now() + load.minMs + next() * (load.maxMs - load.minMs);
    while (performance.now() < end) {
      // Busy-wait: the event loop is blocked, as by synchronous work in an app.
    }
  }, load.periodMs);
  return () => clearInterval(timer);
}
