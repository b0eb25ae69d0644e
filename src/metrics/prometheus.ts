import { Counter, Histogram, register, type OpenMetricsContentType, type PrometheusContentType, type Registry } from 'prom-client';
import { addTaskObserver } from '../observers.js';
import type { TaskContext, TaskEvent } from '../types.js';

export interface MetricsOptions {
  /** The prom-client registry the metrics are registered in. Default: prom-client's global `register`. */
  registry?: Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;
  /** Prepended to every metric name. Default `'fleetcron_'`. */
  prefix?: string;
}

export interface FleetcronMetrics {
  /** Unregisters the metrics from the registry and stops observing tasks. */
  close(): void;
}

/** How a fire ended in this process, the `outcome` label of `fires_total`. */
export type FireOutcomeLabel = 'succeeded' | 'failed' | 'skipped' | 'overlap' | 'missed' | 'lost';

const OUTCOMES: Partial<Record<TaskEvent, FireOutcomeLabel>> = {
  'execution:finished': 'succeeded',
  'execution:failed': 'failed',
  'execution:skipped': 'skipped',
  'execution:overlap': 'overlap',
  'execution:missed': 'missed',
  'execution:lost': 'lost',
};

/** The metrics' names, after the prefix. */
const NAMES = {
  fires: 'fires_total',
  run: 'run_seconds',
  lateness: 'fire_lateness_seconds',
  election: 'election_seconds',
  lost: 'lost_fires_total',
} as const;

// Cron runs take from milliseconds to an hour; elections take milliseconds, a second or more only when a
// coordinator struggles; a fire starts within milliseconds unless a random delay or an overloaded process delays it.
const RUN_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 300, 900, 3600];
const LATENESS_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60];
const ELECTION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * Registers fleetcron's metrics in a prom-client registry and counts, from then on, what every task of this process
 * does: fires by outcome, run durations, how late runs start, election durations, lost fires.
 */
export function registerMetrics(options: MetricsOptions = {}): FleetcronMetrics {
  const registry = options.registry ?? register;
  const prefix = options.prefix ?? 'fleetcron_';
  // Checked before any is made: prom-client would throw at the first name taken, leaving the ones before it registered.
  const taken = Object.values(NAMES).map((name) => prefix + name).filter((name) => registry.getSingleMetric(name));
  if (taken.length > 0) throw new Error(`registerMetrics: the registry already has ${taken.join(', ')} (registered twice? give another prefix)`);
  const registers = [registry];
  const fires = new Counter({
    name: prefix + NAMES.fires,
    help: 'Fires of scheduled tasks in this process, by how they ended here',
    labelNames: ['task', 'outcome'] as const,
    registers,
  });
  const perTask = (name: string, help: string, buckets: number[]) => new Histogram({ name: prefix + name, help, labelNames: ['task'] as const, buckets, registers });
  const runSeconds = perTask(NAMES.run, 'Duration of the scheduled runs of this process', RUN_BUCKETS);
  const lateness = perTask(NAMES.lateness, "Start of a scheduled run minus its fire's planned instant", LATENESS_BUCKETS);
  const elections = perTask(NAMES.election, "Duration of a distributed fire's election, from asking the coordinator to its answer", ELECTION_BUCKETS);
  const lost = new Counter({
    name: prefix + NAMES.lost,
    help: 'Fires this process lost to another that ran nowhere after all (execution:lost)',
    labelNames: ['task'] as const,
    registers,
  });

  const onEvent = (task: string, event: TaskEvent, context: TaskContext): void => {
    const execution = context.execution;
    // execute() runs the function outside the schedule: it is no fire.
    if (execution?.reason === 'invoked') return;
    if (event === 'execution:started') {
      const started = execution?.startedAt?.getTime() ?? context.triggeredAt.getTime();
      lateness.observe({ task }, Math.max(0, started - context.date.getTime()) / 1000);
      return;
    }
    const outcome = OUTCOMES[event];
    if (outcome === undefined) return;
    fires.inc({ task, outcome });
    if (outcome === 'lost') lost.inc({ task });
    if (execution?.startedAt && execution.finishedAt) {
      runSeconds.observe({ task }, Math.max(0, execution.finishedAt.getTime() - execution.startedAt.getTime()) / 1000);
    }
  };
  const removeObserver = addTaskObserver({
    event: onEvent,
    election: (task, seconds) => elections.observe({ task }, seconds),
  });

  let closed = false;
  return {
    close() {
      if (closed) return;
      closed = true;
      removeObserver();
      for (const name of Object.values(NAMES)) registry.removeSingleMetric(prefix + name);
    },
  };
}
