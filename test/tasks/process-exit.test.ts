import { afterEach, describe, expect, it } from 'vitest';
import { Fixture } from '../support/processes.js';

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

const run = (mode: string) => {
  const fixture = new Fixture('exit-check.ts', { MODE: mode });
  fixtures.push(fixture);
  return fixture;
};

const exitsWithin = async (fixture: Fixture, ms: number) =>
  Promise.race([fixture.exit().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('what keeps the process alive', () => {
  it('an unref-ed task does not', async () => {
    const fixture = run('unref');
    expect(await exitsWithin(fixture, 10_000)).toBe(true);
    expect(await fixture.exit()).toEqual({ code: 0, signal: null });
    expect(fixture.of('scheduled')).toHaveLength(1);
  });

  it('a scheduled task does', async () => {
    const fixture = run('ref');
    await fixture.until((r) => r.some((x) => x.type === 'started'), 10_000, 'a run');
    expect(fixture.alive).toBe(true);
  });

  it('shutdown() leaves no timer behind: the process exits by itself', async () => {
    const fixture = run('shutdown');
    expect(await exitsWithin(fixture, 10_000)).toBe(true);
    expect(fixture.of('shut-down')).toHaveLength(1);
    expect(await fixture.exit()).toEqual({ code: 0, signal: null });
  });

  it('shutdown() waits for the run in progress, then exits without waiting out its timeout', async () => {
    const fixture = run('shutdown-busy');
    const started = Date.now();
    expect(await exitsWithin(fixture, 9000)).toBe(true);
    expect(fixture.reports.map((r) => r.type)).toEqual(['scheduled', 'started', 'finished', 'shut-down']);
    expect(Date.now() - started).toBeLessThan(9000);
  });
});
