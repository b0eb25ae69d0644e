import { fixed, ratio, verdict } from './format.js';
import { medianSummary, type Summary } from './stats.js';
import { markdownTable, right, targetTable } from './table.js';

/** Issue 4: an election costs at most this many raw round trips of its transport, at the median and at p99. */
export const TARGET_RATIO = 2;

/** The round trips of one run over a transport, in µs: raw messages and elections, measured alternately. */
export interface RoundTrips {
  raw: Summary;
  elect: Summary;
}

/**
 * The table of a transport's round trips (raw beside election, medians over runs of each run's median and p99) and
 * the issue-4 targets on them. `labels` says what was timed as raw and as an election.
 */
export function roundTripTables(transport: string, labels: { raw: string; elect: string }, runs: readonly RoundTrips[]): string[] {
  const raw = medianSummary(runs.map((r) => r.raw));
  const elect = medianSummary(runs.map((r) => r.elect));
  const rows = [
    [`raw: ${labels.raw}`, fixed(raw.median, 0), fixed(raw.p99, 0), '1.00x / 1.00x'],
    [`election: ${labels.elect}`, fixed(elect.median, 0), fixed(elect.p99, 0), `${ratio(elect.median, raw.median)} / ${ratio(elect.p99, raw.p99)}`],
  ];
  const targets = (['median', 'p99'] as const).map((statistic) => [
    `election round trip within ${TARGET_RATIO}x the raw one (${statistic})`,
    ratio(elect[statistic], raw[statistic]),
    verdict(elect[statistic] <= TARGET_RATIO * raw[statistic]),
  ]);
  return [markdownTable([`${transport} round trip`, ...right('median (µs)', 'p99 (µs)', '× raw (median / p99)')], rows), targetTable(4, ['fleetcron'], targets)];
}
