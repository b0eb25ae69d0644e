// What one election costs, called directly: for each coordinator, `calls` sequential shouldRun calls on distinct
// fires, each followed by onComplete where the coordinator has one (timed apart: it runs after the task, so it
// does not delay the start, but it is a second round trip).
import { finish, params } from '../lib/child-io.js';
import { COORDINATORS, coordinatorFor, type CoordinatorName } from '../lib/coordinators.js';
import type { LibraryName } from '../lib/libraries.js';
import { connectIoRedis, connectNodeRedis } from '../lib/redis-clients.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface CallsParams {
  library: LibraryName;
  redisPort: number;
  /** Keeps keys apart across runs sharing one Redis. */
  runId: string;
  calls: number;
}

export interface CallsResult {
  coordinator: CoordinatorName;
  /** µs per call. */
  shouldRun: Summary;
  onComplete?: Summary;
}

const LEASE_MS = 30_000;
const WARM_UP_CALLS = 100;

const { library, redisPort, runId, calls } = params<CallsParams>();
const clients = { ioredis: await connectIoRedis(redisPort), nodeRedis: await connectNodeRedis(redisPort) };
const results: CallsResult[] = [];
// Keys as the schedulers build them (`name:ISO slot`), one distinct fire per call, an hour ahead.
const base = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
for (const name of COORDINATORS) {
  const coordinator = coordinatorFor(library, name, clients, `${runId}:`);
  if (!coordinator) continue;
  const shouldRun: number[] = [];
  const onComplete: number[] = [];
  for (let i = 0; i < WARM_UP_CALLS + calls; i++) {
    const key = `calls-${name}:${new Date(base + i * 1000).toISOString()}`;
    const started = performance.now();
    await coordinator.shouldRun(key, LEASE_MS);
    const elected = performance.now();
    await coordinator.onComplete?.(key);
    const completed = performance.now();
    if (i < WARM_UP_CALLS) continue;
    shouldRun.push((elected - started) * 1000);
    if (coordinator.onComplete) onComplete.push((completed - elected) * 1000);
  }
  results.push({ coordinator: name, shouldRun: summarize(shouldRun), ...(onComplete.length > 0 ? { onComplete: summarize(onComplete) } : {}) });
}
clients.ioredis.disconnect();
await clients.nodeRedis.close();
finish(results);
