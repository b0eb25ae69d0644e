import { afterEach, describe, expect, it } from 'vitest';
import { Fixture, runsPerSlot, type Report } from '../support/processes.js';

// A winner that cannot run its fire gives it to another worker of the host (DESIGN §8). Before this, such a fire
// ran nowhere and nobody said so: every other worker had already been told `not-elected`.

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

function host(env: NodeJS.ProcessEnv): Fixture {
  const fixture = new Fixture('handover-host.ts', env);
  fixtures.push(fixture);
  return fixture;
}

/** The slots between the first and the last reported run, both left out (the window's edges are partial). */
function innerSlots(reports: Report[]): string[] {
  const slots = [...runsPerSlot(reports).keys()].sort();
  const first = Date.parse(slots[0]!);
  const last = Date.parse(slots.at(-1)!);
  const all: string[] = [];
  for (let t = first + 1000; t < last; t += 1000) all.push(new Date(t).toISOString());
  return all;
}

function reported(reports: Report[], slot: string): boolean {
  const byProcess = reports.some((r) => r.slot === slot && (r.type === 'lost' || r.type === 'missed' || (r.type === 'skip' && r.reason === 'coordinator-error')));
  const byAuthority = reports.some((r) => r.type === 'authority-error' && String(r.message).includes(`handover:${slot}`));
  return byProcess && byAuthority;
}

describe('hand-over: a fire whose winner cannot run it runs elsewhere on the host', () => {
  it('a winner stopped after it was told (during its random delay) hands the fire to another worker: every fire runs once', async () => {
    const primary = host({ FAULT: 'stop', WORKERS: '3' });
    await primary.until((r) => r.filter((x) => x.type === 'won').length >= 4, 45_000, 'the misbehaving worker winning 4 fires');
    const counts = runsPerSlot(primary.reports);
    for (const [slot, n] of counts) expect(n, slot).toBe(1);
    const slots = innerSlots(primary.reports);
    expect(slots.length).toBeGreaterThanOrEqual(5);
    for (const slot of slots) expect(counts.has(slot) || reported(primary.reports, slot), `${slot} ran or was reported`).toBe(true);
    expect(primary.of('authority-info').some((r) => /handed over from worker \d+ \(pid \d+\) to worker/.test(String(r.message)))).toBe(true);
  }, 60_000);

  it('workers that may run once each: every fire runs once until all three are spent', async () => {
    const primary = host({ FAULT: 'stop', WORKERS: '3', MAX_EXECUTIONS: '1' });
    await primary.until((r) => r.filter((x) => x.type === 'run').length >= 3, 30_000, 'three runs');
    const counts = runsPerSlot(primary.reports);
    for (const [slot, n] of counts) expect(n, slot).toBe(1);
    expect(new Set(primary.of('run').map((r) => r.pid)).size).toBe(3);
  });

  it('a winner SIGKILLed the moment it is told hands the fire to another worker, or the fire is reported', async () => {
    const primary = host({ FAULT: 'kill', WORKERS: '3' });
    await primary.until((r) => r.filter((x) => x.type === 'worker-exit').length >= 2, 55_000, 'two killed winners');
    // Each killed winner's fire is handed over at once, or reported once its tolerance has passed with no taker.
    const handedOver = () => primary.of('authority-info').filter((r) => /handed over from worker \d+ \(pid \d+\) to worker/.test(String(r.message)));
    await primary.until(() => handedOver().length + primary.of('authority-error').length >= 2, 10_000, 'both killed winners accounted for');
    const counts = runsPerSlot(primary.reports);
    for (const [slot, n] of counts) expect(n, slot).toBe(1);
    const slots = innerSlots(primary.reports);
    for (const slot of slots) expect(counts.has(slot) || reported(primary.reports, slot), `${slot} ran or was reported`).toBe(true);
  }, 70_000);
});
