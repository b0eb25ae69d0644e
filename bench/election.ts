import { startRedisServer } from '../test/support/redis-server.js';
import type { CallsParams, CallsResult } from './children/election-calls.js';
import type { FiresParams, FiresResult } from './children/election-fires.js';
import type { RecordsParams, RecordsResult } from './children/election-records.js';
import { runChild } from './lib/child.js';
import { tracked } from './lib/cleanup.js';
import { collect } from './lib/collect.js';
import { COORDINATORS, RECORD_BATCH_SIZES, RECORD_CLIENTS, REDIS_COORDINATORS, type CoordinatorName } from './lib/coordinators.js';
import { fixed, ratio, verdict } from './lib/format.js';
import { LIBRARIES, type LibraryName } from './lib/libraries.js';
import { describeCalls, totalCalls } from './lib/redis-clients.js';
import type { Section } from './lib/section.js';
import { medianSummary, sum, summarize, type Summary } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

const TARGET_OVERHEAD_MS = 1;
/** Issue 10: claiming a fire with its record costs at most this much over a bare SET NX PX. */
const TARGET_RECORD_RATIO = 1.25;

interface Figures {
  shouldRun?: Summary;
  onComplete?: Summary;
  fireToStart: Summary;
  /** What the election added to the fire path, fire by fire (none for the plain tasks). */
  overhead?: Summary;
  fires: number;
  expectedFires: number;
  commandsPerFire: number;
  commandNames: string;
}

function combine(coordinator: CoordinatorName, calls: readonly CallsResult[], fires: readonly FiresResult[]): Figures {
  const commands: Record<string, number> = {};
  for (const run of fires) for (const [name, count] of Object.entries(run.commands)) commands[name] = (commands[name] ?? 0) + count;
  const elected = fires.flatMap((run) => run.elected);
  const onComplete = calls.flatMap((run) => (run.onComplete ? [run.onComplete] : []));
  const plain = coordinator === 'none';
  const started = plain ? fires.flatMap((run) => run.reference) : elected;
  return {
    ...(calls.length > 0 ? { shouldRun: medianSummary(calls.map((run) => run.shouldRun)) } : {}),
    ...(onComplete.length > 0 ? { onComplete: medianSummary(onComplete) } : {}),
    fireToStart: summarize(started),
    ...(plain ? {} : { overhead: summarize(fires.flatMap((run) => run.overhead)) }),
    fires: started.length,
    expectedFires: sum(fires.map((run) => run.expectedFires)),
    commandsPerFire: elected.length > 0 ? totalCalls(commands) / elected.length : Number.NaN,
    commandNames: describeCalls(commands),
  };
}

export const electionSection: Section = {
  name: 'election',
  title: 'Election cost per fire, by coordinator (issue 3)',
  async run({ quick, runs }) {
    const callCount = quick ? 300 : 2000;
    const fireSeconds = quick ? 2 : 4;
    const callResults = new Map<string, CallsResult[]>();
    const fireResults = new Map<string, FiresResult[]>();
    const recordResults = new Map<string, RecordsResult[]>();
    const key = (library: LibraryName, coordinator: CoordinatorName) => `${library}/${coordinator}`;
    const redis = tracked(await startRedisServer());
    try {
      for (let run = 0; run < runs; run++) {
        // One library at a time: a second process waking in the same instants would compete with redis-server
        // for the two cores, and its delays would be charged to the election.
        for (const library of LIBRARIES) {
          const calls: CallsParams = { library, redisPort: redis.port, runId: `calls-${library}-${run}`, calls: callCount };
          for (const result of await runChild<CallsResult[]>('election-calls.ts', calls, 120_000)) collect(callResults, key(library, result.coordinator), result);
          const fires: FiresParams = { library, redisPort: redis.port, runId: `fires-${library}-${run}`, fireSeconds };
          for (const result of await runChild<FiresResult[]>('election-fires.ts', fires, 120_000)) collect(fireResults, key(library, result.coordinator), result);
        }
        const records: RecordsParams = { redisPort: redis.port, runId: `records-${run}`, calls: callCount };
        for (const result of await runChild<RecordsResult[]>('election-records.ts', records, 120_000)) collect(recordResults, result.client, result);
      }
    } finally {
      await redis.stop();
    }
    const figures = (library: LibraryName, coordinator: CoordinatorName) => {
      // The plain tasks of every window make the row without a coordinator.
      const fires = coordinator === 'none' ? COORDINATORS.flatMap((c) => fireResults.get(key(library, c)) ?? []) : (fireResults.get(key(library, coordinator)) ?? []);
      return combine(coordinator, callResults.get(key(library, coordinator)) ?? [], fires);
    };

    const rows = COORDINATORS.flatMap((coordinator) =>
      LIBRARIES.map((library) => {
        const f = figures(library, coordinator);
        return [
          coordinator,
          library,
          f.shouldRun ? `${fixed(f.shouldRun.median, 0)} / ${fixed(f.shouldRun.p99, 0)}` : '—',
          f.onComplete ? fixed(f.onComplete.median, 0) : '—',
          `${fixed(f.fireToStart.median)} / ${fixed(f.fireToStart.max)}`,
          f.overhead ? `${fixed(f.overhead.median, 3)} / ${fixed(f.overhead.max, 3)}` : '—',
          `${f.fires} / ${f.expectedFires}`,
          (REDIS_COORDINATORS as readonly string[]).includes(coordinator) ? `${fixed(f.commandsPerFire)} (${f.commandNames})` : '—',
        ];
      }),
    );
    const targets = REDIS_COORDINATORS.flatMap((coordinator) => {
      const cost = (library: LibraryName) => {
        const f = figures(library, coordinator);
        return { rtts: f.commandsPerFire, callMs: (f.shouldRun?.median ?? Number.NaN) / 1000, pathMs: f.overhead?.median ?? Number.NaN };
      };
      const fc = cost('fleetcron');
      const nc = cost('node-cron');
      const show = (c: typeof fc) => `call ${fixed(c.callMs, 3)} ms, fire path ${fixed(c.pathMs, 3)} ms`;
      return [
        // Issue 10 makes it two calls, one before the run: the claim, which writes the fire's record, then its end.
        [`${coordinator}: 1 Redis round trip per fire per process before the run (the claim), 1 after (the end)`, fixed(fc.rtts), fixed(nc.rtts), verdict(fc.rtts === 2)],
        [`${coordinator}: election overhead < ${TARGET_OVERHEAD_MS} ms median`, show(fc), show(nc), verdict(fc.callMs < TARGET_OVERHEAD_MS && fc.pathMs < TARGET_OVERHEAD_MS)],
      ];
    });
    return report(
      `Calls: per run and library, a process calls each coordinator's \`shouldRun\` ${callCount} times in sequence on distinct fires ` +
        '(then `onComplete` where there is one, timed apart: it runs after the task, so it does not delay the start, but it is a ' +
        `round trip). Fire path: per coordinator in turn, a process schedules two \`* * * * * *\` tasks for ${fireSeconds} planned ` +
        'seconds, a plain one and a distributed one using the coordinator; both are woken for the same fire, so the gap between ' +
        'their function starts is the election overhead, fire by fire, free of timer jitter (the "none" row is the plain tasks). ' +
        "Commands: what that process's Redis connections sent per fire (MONITOR: what the client sent, not the commands a Lua " +
        'script runs inside Redis). One process, so it wins every fire: per fire per process is what a replica that wins pays. ' +
        "node-cron 4.6 gets fleetcron's MemoryRunCoordinator object, and for Redis the lock its documentation shows (SET NX PX " +
        'to claim, EVAL compare-and-delete when the run ends), written in bench/lib. node-cron arms a timer per task, so its ' +
        'two tasks can wake a millisecond apart; fleetcron wakes both in one timer callback. One process at a time, on a ' +
        'private redis-server on loopback. ' +
        `${runs} run(s): call figures are medians over runs; fire figures pool every fire of every run.`,
      markdownTable(
        [
          'coordinator',
          'library',
          ...right('shouldRun median / p99 (µs)', 'onComplete median (µs)', 'fire → function median / max (ms)', 'election overhead median / max (ms)'),
          ...right('fires run', 'Redis commands / fire / process'),
        ],
        rows,
      ),
      targetTable(3, ['fleetcron', 'node-cron 4.6'], targets),
      ...recordTables(recordResults, callCount),
    );
  },
};

/** Issue 10: what a fire record costs against a bare SET NX PX, and the commands of a batched claim. */
function recordTables(results: ReadonlyMap<string, readonly RecordsResult[]>, calls: number): string[] {
  const figures = RECORD_CLIENTS.map((client) => {
    const runs = results.get(client) ?? [];
    const perClaim = (fires: number) => runs.flatMap((run) => run.commands.filter((c) => c.fires === fires));
    return {
      client,
      commands: RECORD_BATCH_SIZES.map((fires) => ({ fires, counts: perClaim(fires) })),
      record: medianSummary(runs.map((run) => run.record)),
      setNx: medianSummary(runs.map((run) => run.setNx)),
      server: { record: medianSummary(runs.map((run) => run.server.record)), setNx: medianSummary(runs.map((run) => run.server.setNx)) },
      batch: medianSummary(runs.map((run) => run.batch)),
    };
  });
  const commandsOf = (counts: RecordsResult['commands']) =>
    counts.length === 0 ? 'n/a' : `${fixed(Math.max(...counts.map((c) => c.perClaim)))} (${[...new Set(counts.map((c) => c.names))].join(', ')})`;
  const rows = figures.map((f) => [
    f.client,
    ...f.commands.map(({ counts }) => commandsOf(counts)),
    `${fixed(f.record.median, 0)} / ${fixed(f.record.p99, 0)}`,
    `${fixed(f.setNx.median, 0)} / ${fixed(f.setNx.p99, 0)}`,
    `${ratio(f.record.median, f.setNx.median)} / ${ratio(f.record.p99, f.setNx.p99)}`,
    `${fixed(f.server.record.median, 0)} / ${fixed(f.server.setNx.median, 0)}`,
    `${fixed(f.batch.median, 0)} / ${fixed(f.batch.p99, 0)}`,
  ]);
  const targets = figures.flatMap((f) => [
    [
      `${f.client}: one Redis command per claim of a batch (${RECORD_BATCH_SIZES.join(' and ')} fires)`,
      f.commands.map(({ counts }) => commandsOf(counts)).join(' / '),
      verdict(f.commands.every(({ counts }) => counts.length > 0 && counts.every((c) => c.perClaim === 1))),
    ],
    ...(['median', 'p99'] as const).map((statistic) => [
      `${f.client}: a claim with its record within ${TARGET_RECORD_RATIO}x a bare SET NX PX (${statistic})`,
      ratio(f.record[statistic], f.setNx[statistic]),
      verdict(f.record[statistic] <= TARGET_RECORD_RATIO * f.setNx[statistic]),
    ]),
  ]);
  return [
    `Fire records (RedisLockCoordinator.claim): per client, the commands one claim() sent for a batch of 1 and of 100 fires ` +
      `(MONITOR, as above), then ${calls} claims of one fire, each timed against a bare \`SET key value NX PX\` on the same ` +
      'connection right after it (the same machine state for both), and claims of 100 fires. The task is kept in its steady ' +
      'state: 1000 ended records (the default retention), so each claim also writes its record, checks for lapsed ones and ' +
      "drops the oldest. \"In Redis\": the time Redis itself spent on each call (SLOWLOG), the rest of a round trip " +
      'being the network, the client and the event loops. The commands are counted apart: MONITOR slows Redis down. ' +
      'Medians over runs of each statistic.',
    markdownTable(
      [
        'client',
        ...right(
          'commands / claim of 1 fire',
          'commands / claim of 100 fires',
          'claim of 1 fire median / p99 (µs)',
          'SET NX PX median / p99 (µs)',
          '× SET NX PX (median / p99)',
          'in Redis, median: claim / SET (µs)',
          'claim of 100 fires median / p99 (µs)',
        ),
      ],
      rows,
    ),
    targetTable(10, ['fleetcron'], targets),
  ];
}
