// Runs the whole suite and ends with the plain line `N passed, N failed` (skipped tests are counted apart),
// so a run that executed nothing is visible. Exits with vitest's own status.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const report = '.test-results/vitest.json';
mkdirSync('.test-results', { recursive: true });
rmSync(report, { force: true });

const vitest = createRequire(import.meta.url).resolve('vitest/vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)],
  { stdio: 'inherit' },
);

let passed = 0;
let failed = 0;
let skipped = 0;
try {
  const results = JSON.parse(readFileSync(report, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + (results.numTotalTestSuites > 0 && !results.success && results.numFailedTests === 0 ? 1 : 0);
  skipped = results.numPendingTests + results.numTodoTests;
} catch {
  failed = 1; // no report: vitest did not get as far as running tests
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(run.status ?? 1);
