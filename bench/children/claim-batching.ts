// N distributed tasks of the scale mix elected by one authority over a backend that keeps records (in memory,
// counting its calls): upstream calls per second for the fires of a host, with claims and ends batched per
// event-loop turn or sent one by one (maxBatch 1), and with the fleet-wide policies on or off.
import cron, { MemoryRunCoordinator } from '../../src/index.js';
import type { FireBackend } from '../../src/coordination/records/backend.js';
import { Authority } from '../../src/ipc/authority.js';
import { InProcessRoute } from '../../src/ipc/in-process.js';
import { finish, params } from '../lib/child-io.js';
import { untilSecondPhase, untilWall } from '../lib/clock.js';
import { taskMix } from '../lib/expressions.js';
import { silentLogger } from '../lib/libraries.js';

export interface BatchingParams {
  tasks: number;
  seconds: number;
  maxBatch: number;
  /** Every task with `overlap: 'skip'` and a `fleetMaxExecutions` it never reaches. */
  policies: boolean;
}

export interface BatchingResult {
  fires: number;
  claimCalls: number;
  endCalls: number;
  renewCalls: number;
}

const { tasks: count, seconds, maxBatch, policies } = params<BatchingParams>();
cron.setLogger(silentLogger);
const memory = new MemoryRunCoordinator({ perTask: 5 });
const calls = { claim: 0, claimed: 0, end: 0, renew: 0, counting: false };
const counted: FireBackend = {
  shouldRun: (key, ttl) => memory.shouldRun(key, ttl),
  claim(requests) {
    if (calls.counting) (calls.claim++, (calls.claimed += requests.length));
    return memory.claim(requests);
  },
  renew(...args) {
    if (calls.counting) calls.renew++;
    return memory.renew(...args);
  },
  end(...args) {
    if (calls.counting) calls.end++;
    return memory.end(...args);
  },
  history: (task, options) => memory.history(task, options),
  pause: (task) => memory.pause(task),
  resume: (task) => memory.resume(task),
  taskState: (task) => memory.taskState(task),
  trigger: (task) => memory.trigger(task),
  triggers: (since) => memory.triggers(since),
};
const local = { authority: new Authority({ upstream: counted, maxBatch }), scope: '' };
const route = new InProcessRoute(() => local, { id: 'bench', pid: process.pid });
const mix = taskMix(count);
const tasks = mix.expressions.map((expression, i) =>
  cron.schedule(expression, () => undefined, {
    name: `t${i}`,
    distributed: true,
    runCoordinator: route,
    timezone: 'UTC',
    ...(policies ? { overlap: 'skip' as const, fleetMaxExecutions: 1e9 } : {}),
  }),
);
const start = await untilSecondPhase(500);
calls.counting = true;
await untilWall(start + seconds * 1000);
calls.counting = false;
await Promise.all(tasks.map((task) => task.destroy()));
finish({ fires: calls.claimed, claimCalls: calls.claim, endCalls: calls.end, renewCalls: calls.renew } satisfies BatchingResult);
