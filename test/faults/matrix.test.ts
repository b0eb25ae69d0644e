// The matrix's accounting on hand-made records: it must see a fire run twice, a fire lost silently, a report
// without its cause, a missing authority line, and a winner killed mid-run that the authority did not log.
import { describe, expect, it } from 'vitest';
import type { Stored } from '../fixtures/faults/shared.js';
import { account } from './matrix.js';

const T0 = Date.parse('2030-01-01T00:00:10.000Z');
const slot = (i: number) => new Date(T0 + i * 1000).toISOString();
let clock = 0;
const rec = (file: string, type: string, fields: Record<string, unknown> = {}): Stored => ({
  file,
  type,
  pid: /^\d+$/.test(file) ? Number(file) : 1,
  at: T0 + ++clock,
  ...fields,
});
const arm = (i: number, caseId: string, victim: number) => {
  const [fault, phase] = caseId.split('@');
  return rec('orchestrator', 'arm', { slot: slot(i), caseId, fault, phase, victim });
};
const ran = (pid: number, i: number) => rec(String(pid), 'run', { slot: slot(i) });
const logged = (i: number) => rec('authority', 'log', { level: 'error', text: `fire faults-tick:${slot(i)} was lost: its winner exited` });

/** Fires 0..5 ran once each by worker 11, the arms at 1 and 3 (window: 0..5). */
const base = (): Stored[] => [arm(1, 'stop@answered', 12), arm(3, 'sigkill@running', 13), ...[0, 1, 2, 3, 4, 5].map((i) => ran(11, i))];

describe('fault matrix accounting', () => {
  it('passes a run where every fire ran once', () => {
    const result = account(base(), 't');
    expect(result.planned).toEqual([0, 1, 2, 3, 4, 5].map(slot));
    expect(result.violations).toEqual([]);
  });

  it('reports a fire run twice, even outside the window', () => {
    const result = account([...base(), ran(12, 2), ran(12, 9)], 't');
    expect(result.violations).toHaveLength(1);
    expect(result.violations[0]).toContain(`${slot(2)} [no fault armed for this fire]: ran 2 times, by pids 11, 12`);
    expect(account([...base(), ran(11, 9), ran(12, 9)], 't').violations).toHaveLength(1);
  });

  it('reports a fire that ran nowhere without a report or without the authority line', () => {
    const records = base().filter((r) => !(r.type === 'run' && r.slot === slot(1)));
    const silent = account(records, 't').violations;
    expect(silent).toHaveLength(1);
    expect(silent[0]).toMatch(/stop@answered.*did not run, and no process reported it.*and the authority logged no error/);

    const reportedOnly = account([...records, rec('12', 'lost', { slot: slot(1), error: 'winner stopped' })], 't').violations;
    expect(reportedOnly).toHaveLength(1);
    expect(reportedOnly[0]).not.toContain('no process reported');
    expect(reportedOnly[0]).toContain('the authority logged no error');

    const withoutCause = account([...records, logged(1), rec('12', 'skipped', { slot: slot(1), reason: 'coordinator-error' })], 't').violations;
    expect(withoutCause).toHaveLength(1);
    expect(withoutCause[0]).toContain('only skipped by 12 without ctx.error');

    const notElected = account([...records, logged(1), rec('12', 'skipped', { slot: slot(1), reason: 'not-elected' })], 't').violations;
    expect(notElected[0]).toContain('no process reported it');

    expect(account([...records, logged(1), rec('14', 'missed', { slot: slot(1) })], 't').violations).toEqual([]);
    expect(account([...records, logged(1), rec('12', 'skipped', { slot: slot(1), reason: 'coordinator-error', error: 'the winner stopped' })], 't').violations).toEqual([]);
  });

  it('asks for the authority line when the winner was SIGKILLed while running', () => {
    const struck = [...base(), rec('13', 'fault', { slot: slot(3), caseId: 'sigkill@running', fault: 'sigkill', phase: 'running' })];
    const violations = account(struck, 't').violations;
    expect(violations).toHaveLength(1);
    expect(violations[0]).toContain('SIGKILLed while running');
    expect(account([...struck, logged(3)], 't').violations).toEqual([]);
  });
});
