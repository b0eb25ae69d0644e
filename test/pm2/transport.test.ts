import { describe, expect, it, onTestFailed } from 'vitest';
import type { Pm2App } from '../support/pm2.js';
import { fixture, logText, reportsOf, tsApp, usePm2WithArbiter } from './helpers.js';

interface KeyResult {
  key: string;
  elected?: boolean;
  error?: string;
}

const harness = usePm2WithArbiter();

const electors = (name: string, keys: string[], exec_mode: Pm2App['exec_mode'] = 'cluster'): Pm2App =>
  tsApp({ name, script: fixture('elector.mts'), exec_mode, instances: 3, env: { KEYS: JSON.stringify(keys) } });

/** Each instance's answers, once all 3 instances of `app` have reported. */
function resultsOf(app: string): KeyResult[][] | undefined {
  const reports = reportsOf<{ results?: KeyResult[]; error?: string }>(harness(), app, 'results');
  if (reports.length < 3) return undefined;
  return reports.map((r) => {
    if (!r.results) throw new Error(`${app}: ${r.error ?? 'no results'}`);
    return r.results;
  });
}

function winnersPerKey(reports: KeyResult[][], keys: string[]): Record<string, number> {
  const all = reports.flat();
  expect(all.filter((r) => r.error !== undefined)).toEqual([]);
  return Object.fromEntries(keys.map((key) => [key, all.filter((r) => r.key === key && r.elected === true).length]));
}

describe('PM2 transport: instances elect through the arbiter over the bus', () => {
  const slot = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toISOString();
  const keys = ['report', 'cleanup', `heartbeat:${slot}`];
  const oneEach = Object.fromEntries(keys.map((key) => [key, 1]));

  it('elects exactly one of 3 cluster instances per key', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([electors('electors', keys)]);
    const reports = await pm2.waitFor(() => resultsOf('electors'), 20_000, '3 instances to report');
    expect(winnersPerKey(reports, keys)).toEqual(oneEach);
  }, 30_000);

  it('elects exactly one of 3 fork-mode instances per key', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([electors('forked', keys, 'fork')]);
    const reports = await pm2.waitFor(() => resultsOf('forked'), 20_000, '3 instances to report');
    expect(winnersPerKey(reports, keys)).toEqual(oneEach);
  }, 30_000);

  it('scopes elections by app: two apps with the same keys each get their own winner', async () => {
    const pm2 = harness();
    onTestFailed(() => console.log(logText(pm2)));
    await pm2.start([electors('alpha', keys), electors('beta', keys)]);
    const alpha = await pm2.waitFor(() => resultsOf('alpha'), 20_000, 'alpha to report');
    const beta = await pm2.waitFor(() => resultsOf('beta'), 20_000, 'beta to report');
    expect(winnersPerKey(alpha, keys)).toEqual(oneEach);
    expect(winnersPerKey(beta, keys)).toEqual(oneEach);
  }, 30_000);
});
