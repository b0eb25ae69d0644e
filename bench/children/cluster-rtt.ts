// node:cluster round trips, measured in one worker of a primary that calls serveCluster(): the raw IPC round trip
// (process.send, echoed by the primary with worker.send) and an election through the client a distributed task uses
// (the AuthorityClient that hostCoordinator() hands out), in alternating batches so both see the same conditions.
import cluster, { type Worker } from 'node:cluster';
import { hostCoordinator } from '../../src/ipc/host.js';
import { serveCluster } from '../../src/index.js';
import { finish, params } from '../lib/child-io.js';
import { silentLogger } from '../lib/libraries.js';
import { summarize, type Summary } from '../lib/stats.js';

export interface RttParams {
  samples: number;
}

export interface RttResult {
  /** µs per raw round trip. */
  raw: Summary;
  /** µs per election round trip. */
  elect: Summary;
}

const ECHO = 'fleetcron-bench:echo';
const RESULT = 'fleetcron-bench:result';
const BATCH = 100;
const WARM_UP = 200;

interface Message {
  type?: unknown;
  result?: unknown;
}

function isMessage(message: unknown, type: string): message is Message {
  return typeof message === 'object' && message !== null && (message as Message).type === type;
}

async function primary(): Promise<void> {
  const handle = serveCluster({ logger: silentLogger });
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (isMessage(message, ECHO)) worker.send(message, undefined, () => undefined);
  });
  const worker = cluster.fork();
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const killer = () => worker.process.kill('SIGKILL');
  process.once('SIGTERM', () => {
    killer();
    process.exit(1);
  });
  const result = await new Promise<unknown>((resolve) => worker.on('message', (message: unknown) => isMessage(message, RESULT) && resolve(message.result)));
  worker.disconnect();
  const timer = setTimeout(killer, 5000);
  await exited;
  clearTimeout(timer);
  handle.close();
  finish(result);
}

/** An echo payload shaped and sized like an election request. */
function echoPayload(index: number): object {
  return {
    type: ECHO,
    topic: 'fleetcron',
    data: { proto: 'fleetcron', v: 1, kind: 'elect', id: `${process.pid}.0123456789ab.${index.toString(36)}`, key: `bench-rtt:${new Date().toISOString()}`, ttlMs: 30_000, slot: Date.now() },
  };
}

async function worker(): Promise<void> {
  const { samples } = params<RttParams>();
  const coordinator = hostCoordinator();
  if (!coordinator) throw new Error('this worker found no authority: serveCluster() did not mark it');
  let replied: (() => void) | undefined;
  process.on('message', (message: unknown) => isMessage(message, ECHO) && replied?.());
  const rawRoundTrip = (index: number) =>
    new Promise<void>((resolve) => {
      replied = resolve;
      process.send!(echoPayload(index));
    });
  const base = Math.ceil(Date.now() / 1000) * 1000 + 3_600_000;
  let fires = 0;
  // Each election is a new fire (a slot after the authority started), so each one is decided, not looked up.
  const election = () => coordinator.shouldRun(`bench-rtt:${new Date(base + fires++ * 1000).toISOString()}`, 30_000);

  const raw: number[] = [];
  const elect: number[] = [];
  const measure = async (into: number[] | undefined, roundTrip: (index: number) => unknown, count: number) => {
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await roundTrip(i);
      into?.push((performance.now() - started) * 1000);
    }
  };
  await measure(undefined, rawRoundTrip, WARM_UP);
  await measure(undefined, election, WARM_UP);
  while (raw.length < samples) {
    await measure(raw, rawRoundTrip, BATCH);
    await measure(elect, election, BATCH);
  }
  process.send!({ type: RESULT, result: { raw: summarize(raw), elect: summarize(elect) } satisfies RttResult });
}

if (cluster.isPrimary) await primary();
else await worker();
