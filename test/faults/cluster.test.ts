// The fault-injection matrix on node:cluster: a primary serving elections to 4 workers of an every-second
// distributed task, host-local and with Redis or PostgreSQL as its upstream; over 2 rounds (1 with a backend) of the 16 cases (SIGKILL, SIGSTOP past the tolerance, stop(), shutdown() ×
// before asking, asked, answered, running) no fire runs twice, and every planned fire either runs or is reported by a
// process (skipped as coordinator-error with its cause, missed, or lost) and logged by the authority.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CASES, readRecords } from '../fixtures/faults/shared.js';
import { killLeftovers } from '../support/leftovers.js';
import { recordBackends } from '../support/backends.js';
import { Fixture } from '../support/processes.js';
import { account, coverage, details } from './matrix.js';

const WORKERS = 4;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const BACKENDS = await recordBackends();
/** Host-local election, then each backend that keeps records as the authority's upstream (one round each). */
const VARIANTS = [
  { name: 'host-local', up: true, rounds: process.env.FAULT_ROUNDS ?? '2', make: () => ({ env: {}, cleanup: async () => undefined }) },
  ...BACKENDS.map((backend) => ({ name: `${backend.name} upstream`, up: backend.up, rounds: process.env.FAULT_ROUNDS ?? '1', make: () => backend.make() })),
];

for (const variant of VARIANTS) {
  describe.skipIf(!variant.up)(`fault-injection matrix, node:cluster, ${variant.name}`, () => {
    it(`accounts for every fire of ${WORKERS} workers under SIGKILL, SIGSTOP, stop() and shutdown() at each phase`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'fc-faults-'));
      cleanups.push(() => (process.env.FAULTS_KEEP ? console.log(`records kept in ${dir}`) : rmSync(dir, { recursive: true, force: true })));
      const { env, cleanup } = variant.make();
      cleanups.push(async () => void (await cleanup()));
      const host = new Fixture('faults/cluster-host.ts', { ...env, REPORT_DIR: dir, WORKERS: String(WORKERS), FAULT_ROUNDS: variant.rounds });
      cleanups.push(async () => {
        await host.stop();
        // Workers outlive a primary killed mid-way only when SIGSTOPped; the marker is this run's REPORT_DIR.
        killLeftovers(readRecords(dir).map((r) => r.pid), dir);
      });

      const done = () => readRecords(dir).find((r) => r.type === 'plan-done');
      const deadline = Date.now() + 105_000;
      while (!done()) {
        if (!host.alive) throw new Error(`the primary exited\n${host.output.slice(-4000)}`);
        if (Date.now() > deadline) throw new Error(`the fault plan did not finish\n${host.output.slice(-4000)}`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      // The last faulted fire is two slots before the window's end; a SIGSTOPped victim resumes 2.5 s after it.
      await new Promise((resolve) => setTimeout(resolve, 4000));
      const result = account(readRecords(dir), `node:cluster, ${variant.name}`);
      console.log(`${result.table}\n\n${details(result)}${result.observations.length ? `\n\nobservations:\n${result.observations.join('\n')}` : ''}`);

      expect(result.planned.length).toBeGreaterThanOrEqual(variant.rounds === '1' ? 15 : 30);
      // Every case struck at least once (one that needs its victim to win comes round again until it does).
      expect([...coverage(result.cases).struck].sort()).toEqual(CASES.map((c) => c.id).sort());
      expect(result.violations).toEqual([]);
    }, 120_000);
  });
}
