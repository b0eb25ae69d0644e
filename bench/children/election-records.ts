// What a fire record costs in Redis, per client: the commands one claim() sends for a batch of 1 and of 100 fires,
// and the latency of claiming one fire with the records script against a bare SET NX PX on the same connection,
// timed alternately so that both see the same machine. The task is in its steady state: it keeps 1000 ended records
// (the default retention), so each claim also drops the oldest. Redis's own time per call comes from its SLOWLOG.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClaimRequest } from '../../src/coordination/records/backend.js';
import { CLAIM } from '../../src/coordination/redis/records-lua.js';
import { RedisLockCoordinator } from '../../src/redis.js';
import { finish, params } from '../lib/child-io.js';
import { RECORD_BATCH_SIZES, RECORD_CLIENTS } from '../lib/coordinators.js';
import { CommandMonitor, connectIoRedis, connectNodeRedis, describeCalls, totalCalls } from '../lib/redis-clients.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface RecordsParams {
  redisPort: number;
  /** Names this process's connections and keys, apart from any other run sharing the Redis. */
  runId: string;
  calls: number;
}

export interface RecordsResult {
  client: (typeof RECORD_CLIENTS)[number];
  /** Per batch size: the commands one claim() sent, and which. */
  commands: Array<{ fires: number; perClaim: number; names: string }>;
  /** µs per claim() of one fire. */
  record: Summary;
  /** µs per bare SET NX PX. */
  setNx: Summary;
  /** µs Redis spent per call (SLOWLOG): the claim script of one fire, and SET NX PX. */
  server: { record: Summary; setNx: Summary };
  /** µs per claim() of a batch of 100 fires. */
  batch: Summary;
}

const LEASE_MS = 30_000;
// Enough for the claims to prune the task down to its 1000 records (each drops at most 100).
const WARM_UP = 100;
const COUNTED_CLAIMS = 20;

interface Client {
  coordinator: RedisLockCoordinator;
  setNx(key: string, value: string): Promise<unknown>;
  /** SLOWLOG as [duration µs, command name, first argument] per entry, oldest first. */
  slowlog(command: 'reset' | 'get'): Promise<Array<[number, string, string]>>;
  close(): unknown;
}

const { redisPort, runId, calls } = params<RecordsParams>();

async function connect(client: (typeof RECORD_CLIENTS)[number]): Promise<Client> {
  const name = `${runId}-${client}`;
  const prefix = `${runId}:`;
  if (client === 'ioredis') {
    const redis = await connectIoRedis(redisPort, name);
    return {
      coordinator: new RedisLockCoordinator(redis, { prefix }),
      setNx: (key, value) => redis.set(key, value, 'PX', LEASE_MS, 'NX'),
      slowlog: async (command) => slowlogEntries(command === 'get' ? await redis.call('SLOWLOG', 'GET', '-1') : await redis.call('SLOWLOG', 'RESET')),
      close: () => redis.disconnect(),
    };
  }
  const redis = await connectNodeRedis(redisPort, name);
  return {
    coordinator: new RedisLockCoordinator(redis, { prefix }),
    setNx: (key, value) => redis.set(key, value, { NX: true, PX: LEASE_MS }),
    slowlog: async (command) => slowlogEntries(await redis.sendCommand(command === 'get' ? ['SLOWLOG', 'GET', '-1'] : ['SLOWLOG', 'RESET'])),
    close: () => redis.close(),
  };
}

function slowlogEntries(reply: unknown): Array<[number, string, string]> {
  if (!Array.isArray(reply)) return [];
  return (reply as Array<[unknown, unknown, unknown, unknown[]]>).reverse().map(([, , micros, args]) => [Number(micros), String(args[0]).toLowerCase(), String(args[1])]);
}

const admin = await connectIoRedis(redisPort);
await admin.config('SET', 'slowlog-log-slower-than', '0');
await admin.config('SET', 'slowlog-max-len', '1000');
const clients = new Map<(typeof RECORD_CLIENTS)[number], Client>();
for (const client of RECORD_CLIENTS) clients.set(client, await connect(client));
let slot = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
const fires = (client: string, { coordinator }: Client, count: number): ClaimRequest[] =>
  Array.from({ length: count }, () => ({ task: `${client}-records`, slot: (slot += 1000), leaseMs: LEASE_MS, holder: coordinator.holder, claimId: `${coordinator.token}:${slot}` }));
/** Claims, and returns how to end what was won (apart, so that ends are neither timed nor counted). */
const claim = async ({ coordinator }: Client, requests: ClaimRequest[]) => {
  const answers = await coordinator.claim(requests);
  return async () => {
    const ends = answers.flatMap((answer, i) =>
      answer.won ? [{ task: requests[i]!.task, slot: requests[i]!.slot, fencingToken: answer.fencingToken, outcome: { state: 'succeeded', startedAt: 0, endedAt: 1 } as const }] : [],
    );
    if (ends.length > 0) await coordinator.end(ends);
  };
};

// The commands first, alone: MONITOR slows Redis down (it is fed every command a script runs too).
const monitor = await CommandMonitor.start(redisPort, runId);
const commands = new Map<string, RecordsResult['commands']>();
for (const [client, c] of clients) {
  for (let i = 0; i < 10; i++) await (await claim(c, fires(client, c, 100)))();
  const counts: RecordsResult['commands'] = [];
  for (const size of RECORD_BATCH_SIZES) {
    await monitor.reset();
    const ends = [];
    for (let i = 0; i < COUNTED_CLAIMS; i++) ends.push(await claim(c, fires(client, c, size)));
    await sleep(200); // MONITOR's feed trails the replies
    const counted = monitor.read();
    counts.push({ fires: size, perClaim: totalCalls(counted) / COUNTED_CLAIMS, names: describeCalls(counted) });
    for (const end of ends) await end();
  }
  commands.set(client, counts);
}
monitor.stop();

const results: RecordsResult[] = [];
for (const [client, c] of clients) {
  const record: number[] = [];
  const bare: number[] = [];
  const serverRecord: number[] = [];
  const serverSetNx: number[] = [];
  for (let i = 0; i < WARM_UP + calls; i++) {
    if (i === WARM_UP) await c.slowlog('reset');
    const started = performance.now();
    const end = await claim(c, fires(client, c, 1));
    const claimed = performance.now();
    await c.setNx(`${runId}:set-nx:${client}:${i}`, `${c.coordinator.token}:${i}`);
    const set = performance.now();
    await end();
    if (i < WARM_UP) continue;
    record.push((claimed - started) * 1000);
    bare.push((set - claimed) * 1000);
    // Drained as it goes: the log keeps its last entries only.
    if (i % 100 === 99 || i === WARM_UP + calls - 1) {
      for (const [micros, name, first] of await c.slowlog('get')) {
        if (name === 'evalsha' && first === CLAIM.sha1) serverRecord.push(micros);
        if (name === 'set') serverSetNx.push(micros);
      }
      await c.slowlog('reset');
    }
  }
  const batch: number[] = [];
  for (let i = 0; i < Math.max(20, calls / 10); i++) {
    const started = performance.now();
    const end = await claim(c, fires(client, c, 100));
    batch.push((performance.now() - started) * 1000);
    await end();
  }
  results.push({
    client,
    commands: commands.get(client)!,
    record: summarize(record),
    setNx: summarize(bare),
    server: { record: summarize(serverRecord), setNx: summarize(serverSetNx) },
    batch: summarize(batch),
  });
  c.close();
}
await admin.config('SET', 'slowlog-log-slower-than', '10000');
admin.disconnect();
finish(results);
