// The same scenario on node-cron 4.6 and on fleetcron gives the same events in the same order, wherever node-cron
// is right. Both run on the same fake clock.
import nodeCron from 'node-cron';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import fleetcron from '../../src/index.js';
import type { Logger, RunCoordinator, ScheduledTask, TaskEvent, TaskOptions } from '../../src/types.js';

type Lib = { createTask(e: string, f: () => unknown, o?: TaskOptions): ScheduledTask };
const LIBS: Array<[string, Lib]> = [['node-cron', nodeCron as unknown as Lib], ['fleetcron', fleetcron]];
const EVENTS: TaskEvent[] = [
  'task:started', 'task:stopped', 'task:destroyed', 'execution:started', 'execution:finished', 'execution:failed',
  'execution:missed', 'execution:overlap', 'execution:maxReached', 'execution:skipped',
];
const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const START = Date.parse('2030-06-01T12:00:00.250Z');

interface Scenario {
  expression?: string;
  options?: TaskOptions;
  fn?: () => unknown;
  env?: string;
  play(task: ScheduledTask): Promise<void>;
}

async function trace(lib: Lib, scenario: Scenario): Promise<string[]> {
  vi.useFakeTimers({ now: START });
  vi.stubEnv('NODE_CRON_RUN', scenario.env);
  const seen: string[] = [];
  const task = lib.createTask(scenario.expression ?? '* * * * * *', scenario.fn ?? (() => 'ok'), { logger: quiet, ...scenario.options });
  for (const event of EVENTS) {
    task.on(event, (ctx) => {
      const parts = [event, ctx.date.toISOString().slice(11, 19), ctx.dateLocalIso.slice(19), ctx.reason, ctx.execution?.reason];
      seen.push(event.startsWith('task:') ? event : parts.filter(Boolean).join(' '));
    });
  }
  task.start();
  await scenario.play(task);
  await task.destroy();
  await vi.advanceTimersByTimeAsync(0);
  vi.useRealTimers();
  vi.unstubAllEnvs();
  return seen;
}

const advance = async (ms: number): Promise<void> => {
  await vi.advanceTimersByTimeAsync(ms);
};
const coordinator = (answer: () => boolean): RunCoordinator => ({ shouldRun: answer });

const SCENARIOS: Record<string, Scenario> = {
  'three successful fires': { play: () => advance(3000) },
  'a failing function': { fn: () => { throw new Error('x'); }, play: () => advance(2000) },
  'a time zone in the context': { options: { timezone: 'Asia/Kolkata' }, play: () => advance(1000) },
  'stop and start again': {
    play: async (task) => {
      await advance(1000);
      task.stop();
      await advance(2000);
      task.start();
      await advance(1000);
    },
  },
  'NODE_CRON_RUN=false': { env: 'false', options: { name: 'job', distributed: true }, play: () => advance(2000) },
  'NODE_CRON_RUN=true': { env: 'true', options: { name: 'job', distributed: true }, play: () => advance(2000) },
  'a throwing coordinator': { options: { name: 'job', distributed: true, runCoordinator: coordinator(() => { throw new Error('down'); }) }, play: () => advance(2000) },
  'maxExecutions: 2': { options: { maxExecutions: 2 }, play: () => advance(4000) },
  'noOverlap with a slow function': {
    options: { noOverlap: true },
    fn: () => new Promise((r) => setTimeout(r, 1500)),
    play: () => advance(4000),
  },
  'a blocked event loop': {
    play: async () => {
      await advance(1000);
      vi.setSystemTime(Date.now() + 3500);
      await advance(1000);
    },
  },
  'invoked run': { expression: '0 0 1 1 *', play: async (task) => void (await task.execute()) },
};

beforeEach(() => vi.useRealTimers());
afterEach(async () => {
  await fleetcron.shutdown(0);
});

describe('event sequences equal node-cron 4.6', () => {
  for (const [title, scenario] of Object.entries(SCENARIOS)) {
    it(title, async () => {
      const [theirs, ours] = [await trace(LIBS[0]![1], scenario), await trace(LIBS[1]![1], scenario)];
      expect(ours.length).toBeGreaterThan(2);
      expect(ours).toEqual(theirs);
    });
  }
});
