import pg from 'pg';
import { PG_CONFIG } from '../test/support/postgres.js';
import type { PgClaimsParams, PgClaimsResult } from './children/postgres-claims.js';
import { runChild } from './lib/child.js';
import { fixed, ratio, verdict } from './lib/format.js';
import type { Section } from './lib/section.js';
import { median, medianSummary, type Summary } from './lib/stats.js';
import { markdownTable, report, right, targetTable } from './lib/table.js';

/** Issue 10: the record costs at most this much over the bare write. */
const TARGET_RATIO = 1.25;

async function reachable(): Promise<string | undefined> {
  const client = new pg.Client(PG_CONFIG);
  try {
    await client.connect();
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export const postgresSection: Section = {
  name: 'postgres',
  title: 'Fire records on PostgreSQL: claim cost and round trips (issue 10)',
  async run({ quick, runs }) {
    const unreachable = await reachable();
    if (unreachable) return `**skipped:** PostgreSQL on ${PG_CONFIG.host}:${PG_CONFIG.port} is not reachable (${unreachable}).`;
    const samples = quick ? 1000 : 4000;
    const batches = quick ? 50 : 200;
    const results: PgClaimsResult[] = [];
    for (let run = 0; run < runs; run++) {
      results.push(await runChild<PgClaimsResult>('postgres-claims.ts', { samples, batches, runId: `${process.pid}_${run}` } satisfies PgClaimsParams, 300_000));
    }
    const of = (pick: (r: PgClaimsResult) => Summary) => medianSummary(results.map(pick));
    const [bare, prepared, claim] = [of((r) => r.bare), of((r) => r.barePrepared), of((r) => r.claim)];
    const row = (label: string, s: Summary) => [label, fixed(s.median, 0), fixed(s.p99, 0), `${ratio(s.median, prepared.median)} / ${ratio(s.p99, prepared.p99)}`];
    const rows = [
      row('bare write, as an app sends it: `INSERT INTO bare (key) VALUES ($1) ON CONFLICT DO NOTHING`', bare),
      row('bare write, the same as a prepared statement', prepared),
      row('`claim` of 1 fire, won: record written (prepared, as the coordinator sends it)', claim),
      row('`claim` of 1 fire another host holds: lost, nothing written', of((r) => r.claimTaken)),
      row('`end` of the won fire', of((r) => r.end)),
      row(`\`claim\` of a batch of 100 fires (10 tasks)`, of((r) => r.batch)),
    ];
    const trips = median(results.map((r) => r.tripsPerBatch));
    const within = (statistic: 'median' | 'p99', reference: Summary) => claim[statistic] <= TARGET_RATIO * reference[statistic];
    const targets = [
      ['record at most 25 % over the bare write, median (prepared / as an app sends it)', `${ratio(claim.median, prepared.median)} / ${ratio(claim.median, bare.median)}`, verdict(within('median', prepared))],
      ['record at most 25 % over the bare write, p99 (prepared / as an app sends it)', `${ratio(claim.p99, prepared.p99)} / ${ratio(claim.p99, bare.p99)}`, verdict(within('p99', prepared))],
      ['one round trip per batch of 100 fires', `${fixed(trips, 0)} (1 fire: ${fixed(median(results.map((r) => r.tripsPerClaim)), 0)})`, verdict(trips === 1)],
    ];
    return report(
      `One process, one connection to ${results[0]!.server} on ${PG_CONFIG.host}:${PG_CONFIG.port}, in a schema of its own. ` +
        `${samples} samples after a warm-up, each of them in turn: the bare write, the same prepared, a claim of a free fire (the ` +
        'record written with its fencing token, the lapse check, the retention of 100 records per task, so every claim also drops ' +
        'one), a claim of a fire another host holds, and the end of the won fire; then ' +
        `${batches} batches of 100 fires. Every call is its own transaction, committed (durably unless synchronous_commit is off), ` +
        'so the commit is most of each write. Round trips are query cycles counted on the wire by a proxy. ' +
        `${runs} run(s): medians over runs.`,
      markdownTable(['call', ...right('median (µs)', 'p99 (µs)', '× prepared bare write (median / p99)')], rows),
      targetTable(10, ['fleetcron'], targets),
    );
  },
};
