// Election round trip through the PM2 bus beside the raw PM2 bus round trip, measured in the same run:
// `npx tsx test/pm2/measure-roundtrip.ts` (ROUNDS x BATCH sequential requests of each kind, default 10 x 100).
import { startPm2 } from '../support/pm2.js';
import { arbiterApp, arbiterServing, fixture, reportsOf, tsApp } from './helpers.js';

const pm2 = await startPm2();
try {
  await pm2.start([arbiterApp(), tsApp({ name: 'echo', script: fixture('echo.mts'), exec_mode: 'fork', instances: 1 })]);
  await arbiterServing(pm2);
  await pm2.waitFor(() => pm2.lines.some((l) => l.text === 'echo: ready'), 15_000, 'the echo app');
  const env: Record<string, string> = {};
  for (const name of ['ROUNDS', 'BATCH']) if (process.env[name]) env[name] = process.env[name]!;
  await pm2.start([tsApp({ name: 'pinger', script: fixture('pinger.mts'), exec_mode: 'cluster', instances: 1, env })]);
  const pinger = (await pm2.list()).find((p) => p.name === 'pinger')!;
  await new Promise((resolve) => setTimeout(resolve, 1000));
  await pm2.send(pinger.pm_id, { topic: 'fleetcron-test', data: { kind: 'go' } });
  const [result] = await pm2.waitFor(() => {
    const reports = reportsOf<{ raw: number[]; elect: number[] }>(pm2, 'pinger', 'samples');
    return reports.length > 0 && reports;
  }, 120_000, 'the samples');
  const stats = (samples: number[]) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    return { n: sorted.length, p50: at(0.5), p99: at(0.99), mean: sorted.reduce((a, b) => a + b, 0) / sorted.length };
  };
  const raw = stats(result!.raw);
  const elect = stats(result!.elect);
  const row = (name: string, s: ReturnType<typeof stats>) =>
    `${name.padEnd(28)} n=${s.n}  p50 ${s.p50.toFixed(0).padStart(5)} µs  p99 ${s.p99.toFixed(0).padStart(5)} µs  mean ${s.mean.toFixed(0).padStart(5)} µs`;
  console.log(row('raw PM2 bus round trip', raw));
  console.log(row('election via arbiter', elect));
  console.log(`election / raw: p50 ${(elect.p50 / raw.p50).toFixed(2)}x, p99 ${(elect.p99 / raw.p99).toFixed(2)}x`);
} finally {
  await pm2.teardown();
}
