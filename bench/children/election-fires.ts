// The election on the fire path. For each coordinator in turn, two every-second tasks for `fireSeconds` planned
// seconds: a plain one (the reference) and a distributed one elected by that coordinator. Both are woken for the same
// fire, so the difference of their start times is what the election adds, free of the timer's own jitter. Also the
// commands this process's Redis connections sent per fire.
import { finish, params } from '../lib/child-io.js';
import { wallNow } from '../lib/clock.js';
import { COORDINATORS, coordinatorFor, type CoordinatorName } from '../lib/coordinators.js';
import { loadScheduler, type LibraryName } from '../lib/libraries.js';
import { CommandMonitor, connectIoRedis, connectNodeRedis } from '../lib/redis-clients.js';

export interface FiresParams {
  library: LibraryName;
  redisPort: number;
  /** Names this process's connections and keys, apart from any other run sharing the Redis. */
  runId: string;
  fireSeconds: number;
}

export interface FiresResult {
  coordinator: CoordinatorName;
  /** ms from each planned second to the plain task's function starting. */
  reference: number[];
  /** ms from each planned second to the distributed task's function starting. */
  elected: number[];
  /** ms the distributed task started after the plain one, fire by fire. */
  overhead: number[];
  expectedFires: number;
  /** Redis commands this process sent during the fires, by name. */
  commands: Record<string, number>;
}

const { library, redisPort, runId, fireSeconds } = params<FiresParams>();
const cron = await loadScheduler(library);
const clients = { ioredis: await connectIoRedis(redisPort, `${runId}-ioredis`), nodeRedis: await connectNodeRedis(redisPort, `${runId}-node-redis`) };
const monitor = await CommandMonitor.start(redisPort, runId);

const results: FiresResult[] = [];
for (const name of COORDINATORS) {
  const coordinator = coordinatorFor(library, name, clients, `${runId}:`);
  if (!coordinator) continue;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const starts = { reference: new Map<number, number>(), elected: new Map<number, number>() };
  const recorder = (into: Map<number, number>) => ({ date }: { date: Date }) => {
    const slot = date.getTime();
    if (slot >= first && slot <= last) into.set(slot, wallNow() - slot);
  };
  // The reference first: both libraries wake tasks due at the same instant in the order they were scheduled.
  const tasks = [
    cron.schedule('* * * * * *', recorder(starts.reference)),
    cron.schedule('* * * * * *', recorder(starts.elected), { name: `${runId}-${name}`, distributed: true, runCoordinator: coordinator }),
  ];
  const commands = await monitor.countOver(fireSeconds, (from, to) => {
    first = from;
    last = to;
  });
  await Promise.all(tasks.map((task) => task.destroy()));
  const overhead = [...starts.elected].flatMap(([slot, elected]) => {
    const reference = starts.reference.get(slot);
    return reference === undefined ? [] : [elected - reference];
  });
  results.push({ coordinator: name, reference: [...starts.reference.values()], elected: [...starts.elected.values()], overhead, expectedFires: fireSeconds, commands });
}
monitor.stop();
clients.ioredis.disconnect();
await clients.nodeRedis.close();
finish(results);
