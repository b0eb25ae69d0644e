// fleetcron/metrics with real tasks and real timers: what the registry shows after some fires. Counts are compared
// with what the tasks did, never with timings, so a loaded machine changes nothing but how long the tests take.
import { Counter, Registry, register as globalRegistry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import cron, { MemoryRunCoordinator, type ScheduledTask } from '../../src/index.js';
import { silentLogger } from '../../src/logger.js';
import { registerMetrics, type FleetcronMetrics } from '../../src/metrics.js';
import { observing } from '../../src/observers.js';

const opened: FleetcronMetrics[] = [];

function metricsIn(registry: Registry): FleetcronMetrics {
  const metrics = registerMetrics({ registry });
  opened.push(metrics);
  return metrics;
}

afterEach(async () => {
  for (const metrics of opened.splice(0)) metrics.close();
  await cron.shutdown(0);
});

/** The sum of the samples named `sample` (a histogram's `_count`, say) of metric `metric` whose labels include `labels`. */
async function sampled(registry: Registry, metric: string, labels: Record<string, string>, sample = metric): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === metric);
  if (!found) return 0;
  let total = 0;
  for (const value of found.values) {
    const name = (value as { metricName?: string }).metricName ?? metric;
    if (name !== sample) continue;
    if (Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted)) total += value.value;
  }
  return total;
}

async function until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the tasks');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Stops the tasks, then lets their runs in progress (a few ms each here) end: nothing more is counted after this. */
async function stopAll(...tasks: ScheduledTask[]): Promise<void> {
  for (const task of tasks) await task.stop();
  await new Promise((resolve) => setTimeout(resolve, 300));
}

describe('registerMetrics', () => {
  it('counts the fires of tasks without listeners by outcome, and times their runs and how late they start', async () => {
    const registry = new Registry();
    metricsIn(registry);
    let succeeded = 0;
    let failed = 0;
    const ok = cron.schedule('* * * * * *', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      succeeded++;
    }, { name: 'ok' });
    const bad = cron.schedule('* * * * * *', () => {
      failed++;
      throw new Error('this run fails');
    }, { name: 'bad', logger: silentLogger });
    await until(() => succeeded >= 2 && failed >= 2);
    await stopAll(ok, bad);
    // execute() runs the function outside the schedule: its run is no fire, and is not counted.
    const fired = succeeded;
    await ok.execute();
    expect(succeeded).toBe(fired + 1);
    succeeded = fired;

    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'ok', outcome: 'succeeded' })).toBe(succeeded);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'ok', outcome: 'failed' })).toBe(0);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'bad', outcome: 'failed' })).toBe(failed);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'bad', outcome: 'succeeded' })).toBe(0);
    for (const [task, runs] of [['ok', succeeded], ['bad', failed]] as const) {
      expect(await sampled(registry, 'fleetcron_run_seconds', { task }, 'fleetcron_run_seconds_count'), task).toBe(runs);
      expect(await sampled(registry, 'fleetcron_fire_lateness_seconds', { task }, 'fleetcron_fire_lateness_seconds_count'), task).toBe(runs);
      const lateness = await sampled(registry, 'fleetcron_fire_lateness_seconds', { task }, 'fleetcron_fire_lateness_seconds_sum');
      expect(lateness).toBeGreaterThanOrEqual(0);
      expect(lateness / runs, 'a run starts within seconds of its fire').toBeLessThan(5);
    }
    // Each successful run waited 20 ms (a timer is never early; Date granularity may take a millisecond).
    expect(await sampled(registry, 'fleetcron_run_seconds', { task: 'ok' }, 'fleetcron_run_seconds_sum')).toBeGreaterThanOrEqual(0.019 * succeeded);
    // In-process tasks hold no election.
    expect(await sampled(registry, 'fleetcron_election_seconds', {}, 'fleetcron_election_seconds_count')).toBe(0);
  });

  it('times the elections of a distributed task and counts the fires its copy loses as skipped', async () => {
    const registry = new Registry();
    metricsIn(registry);
    const coordinator = new MemoryRunCoordinator();
    let runs = 0;
    let skips = 0;
    const options = { name: 'race', distributed: true, runCoordinator: coordinator, timezone: 'UTC' } as const;
    const a = cron.schedule('* * * * * *', () => void runs++, options);
    const b = cron.schedule('* * * * * *', () => void runs++, options);
    for (const task of [a, b]) task.on('execution:skipped', (ctx) => void (ctx.reason === 'not-elected' && skips++));
    await until(() => runs >= 2 && skips >= 2);
    await stopAll(a, b);

    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'race', outcome: 'succeeded' })).toBe(runs);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'race', outcome: 'skipped' })).toBe(skips);
    const elections = await sampled(registry, 'fleetcron_election_seconds', { task: 'race' }, 'fleetcron_election_seconds_count');
    // Every fire is elected by both copies: the winner's run and the loser's skip each followed one.
    expect(elections).toBeGreaterThanOrEqual(runs + skips);
    const seconds = await sampled(registry, 'fleetcron_election_seconds', { task: 'race' }, 'fleetcron_election_seconds_sum');
    expect(seconds).toBeGreaterThanOrEqual(0);
    expect(seconds / elections, 'an in-memory election takes well under a second').toBeLessThan(1);
  });

  it('counts a fire that ran nowhere (execution:lost) as lost, in both counters', async () => {
    const registry = new Registry();
    metricsIn(registry);
    const coordinator = new MemoryRunCoordinator();
    // A claim of another host whose lease ran out before it ended: the next claim of the task finds it lost.
    const stale = { task: 'report', slot: Date.now() - 60_000, leaseMs: 1, holder: { host: 'elsewhere', pid: 7, incarnation: 'x' }, claimId: 'c' };
    await coordinator.claim([stale]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    let lost = 0;
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'report', distributed: true, runCoordinator: coordinator, logger: silentLogger });
    task.on('execution:lost', () => void lost++);
    await until(() => lost >= 1);
    await stopAll(task);

    expect(lost).toBe(1);
    expect(await sampled(registry, 'fleetcron_lost_fires_total', { task: 'report' })).toBe(1);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'report', outcome: 'lost' })).toBe(1);
  });

  it('counts a fire whose timer came too late as missed', async () => {
    const registry = new Registry();
    metricsIn(registry);
    let missed = 0;
    const task = cron.schedule('* * * * * *', () => undefined, { name: 'blocked', missedExecutionTolerance: 100, logger: silentLogger });
    task.on('execution:missed', () => void missed++);
    // The event loop is blocked past a fire and its tolerance: the timer wakes up too late to run it.
    const end = Date.now() + 1300;
    while (Date.now() < end) {
      // busy
    }
    await until(() => missed >= 1);
    await stopAll(task);

    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'blocked', outcome: 'missed' })).toBe(missed);
  });

  it('close() unregisters the metrics and stops observing: later fires change nothing', async () => {
    const registry = new Registry();
    const metrics = registerMetrics({ registry, prefix: 'app_cron_' });
    expect(observing()).toBe(true);
    let runs = 0;
    const task = cron.schedule('* * * * * *', () => void runs++, { name: 'closing' });
    await until(() => runs >= 1);
    expect(await sampled(registry, 'app_cron_fires_total', { task: 'closing', outcome: 'succeeded' })).toBeGreaterThanOrEqual(1);

    metrics.close();
    metrics.close(); // a second close is nothing
    expect(observing()).toBe(false);
    expect((await registry.getMetricsAsJSON()).map((m) => m.name)).toEqual([]);
    const before = runs;
    await until(() => runs >= before + 1);
    await stopAll(task);
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    // The names are free again.
    metricsIn(registry);
    expect(await sampled(registry, 'fleetcron_fires_total', { task: 'closing' })).toBe(0);
  });

  it('refuses a registry that has one of its names already, and registers nothing then', async () => {
    const registry = new Registry();
    metricsIn(registry);
    expect(() => registerMetrics({ registry })).toThrow(/already has fleetcron_fires_total, fleetcron_run_seconds/);
    const other = new Registry();
    new Counter({ name: 'fleetcron_lost_fires_total', help: 'an app metric of the same name', registers: [other] });
    expect(() => registerMetrics({ registry: other })).toThrow(/already has fleetcron_lost_fires_total \(/);
    expect((await other.getMetricsAsJSON()).map((m) => m.name)).toEqual(['fleetcron_lost_fires_total']);
    expect(observing()).toBe(true); // the first registration's observer only
  });

  it("registers in prom-client's global registry by default", async () => {
    const metrics = registerMetrics();
    opened.push(metrics);
    expect((await globalRegistry.getMetricsAsJSON()).map((m) => m.name)).toEqual(
      expect.arrayContaining(['fleetcron_fires_total', 'fleetcron_run_seconds', 'fleetcron_fire_lateness_seconds', 'fleetcron_election_seconds', 'fleetcron_lost_fires_total']),
    );
    const text = await globalRegistry.metrics();
    expect(text).toContain('# TYPE fleetcron_fires_total counter');
    expect(text).toContain('# TYPE fleetcron_run_seconds histogram');
    metrics.close();
    expect((await globalRegistry.getMetricsAsJSON()).filter((m) => m.name.startsWith('fleetcron_'))).toEqual([]);
  });
});
