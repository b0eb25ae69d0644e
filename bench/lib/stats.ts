/** The statistics every figure is reported with. */
export interface Summary {
  n: number;
  median: number;
  p99: number;
  max: number;
}

/** The q-quantile of ascending `sorted`, interpolating linearly between the closest ranks. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const low = sorted[below]!;
  const high = sorted[Math.min(below + 1, sorted.length - 1)]!;
  return low + (high - low) * (position - below);
}

export function summarize(samples: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(samples).sort();
  return { n: sorted.length, median: quantile(sorted, 0.5), p99: quantile(sorted, 0.99), max: sorted[sorted.length - 1] ?? Number.NaN };
}

export function median(values: readonly number[]): number {
  return quantile(Float64Array.from(values).sort(), 0.5);
}

/** Each statistic as the median of its per-run values: how repeated runs are combined. */
export function medianSummary(runs: readonly Summary[]): Summary {
  return {
    n: runs.reduce((total, run) => total + run.n, 0),
    median: median(runs.map((run) => run.median)),
    p99: median(runs.map((run) => run.p99)),
    max: median(runs.map((run) => run.max)),
  };
}

export function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
