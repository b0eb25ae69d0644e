/** How a run of the bench is configured (from the command line). */
export interface BenchSettings {
  /** Shorter windows and fewer samples: a smoke test of every section in a couple of minutes. */
  quick: boolean;
  /** Repetitions of each measurement; figures are medians over them. */
  runs: number;
}

/** One part of the bench: measures, then returns its figures as markdown (tables and the notes they need). */
export interface Section {
  name: string;
  title: string;
  run(settings: BenchSettings): Promise<string>;
}
