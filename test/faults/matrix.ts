// The accounting of the fault-injection matrix, over the records of every process of one run (see
// test/fixtures/faults/): which fires were planned, which ran (and how often), which were reported and logged, and
// what each armed fault did.
import { CASES, TASK_NAME, type Stored } from '../fixtures/faults/shared.js';

/** A fire the process reported as not run: how, and whether that report carries what the contract asks for. */
interface Report {
  pid: number;
  type: 'skipped' | 'missed' | 'lost';
  error?: string;
  valid: boolean;
}

export interface FireAccount {
  slot: string;
  runs: number[];
  reports: Report[];
  /** The authority's error lines naming the task and this slot. */
  logged: string[];
  /** Workers that asked for the fire (their election request left the process). */
  askers: number[];
}

export interface CaseOutcome {
  slot: string;
  caseId: string;
  fault: string;
  phase: string;
  victim: number;
  /** The victim struck itself at the armed phase. */
  triggered: boolean;
  /** The victim was the fire's host-local winner (n/a before asking: it never asked). */
  won: boolean | 'n/a';
  wonHow: string;
  ran: 'victim' | 'elsewhere' | 'nowhere' | 'twice';
  fire: FireAccount;
}

export interface MatrixResult {
  planned: string[];
  fires: Map<string, FireAccount>;
  cases: CaseOutcome[];
  violations: string[];
  observations: string[];
  table: string;
}

const isWorkerFile = (r: Stored) => /^\d+$/.test(r.file);

export function account(records: Stored[], label: string): MatrixResult {
  const arms = records.filter((r) => r.file === 'orchestrator' && r.type === 'arm');
  const fires = new Map<string, FireAccount>();
  const fire = (slot: string) => {
    let f = fires.get(slot);
    if (!f) fires.set(slot, (f = { slot, runs: [], reports: [], logged: [], askers: [] }));
    return f;
  };
  for (const r of records) {
    if (!isWorkerFile(r) || typeof r.slot !== 'string') continue;
    if (r.type === 'run') fire(r.slot).runs.push(r.pid);
    if (r.type === 'sent') fire(r.slot).askers.push(r.pid);
    if (r.type === 'skipped' && r.reason === 'coordinator-error') {
      fire(r.slot).reports.push({ pid: r.pid, type: 'skipped', error: r.error as string | undefined, valid: typeof r.error === 'string' && !r.error.startsWith('not an Error') });
    }
    if (r.type === 'missed') fire(r.slot).reports.push({ pid: r.pid, type: 'missed', valid: true });
    if (r.type === 'lost') fire(r.slot).reports.push({ pid: r.pid, type: 'lost', error: r.error as string | undefined, valid: typeof r.error === 'string' && !r.error.startsWith('not an Error') });
  }
  const errors = records.filter((r) => r.file === 'authority' && r.type === 'log' && r.level === 'error').map((r) => String(r.text));
  for (const f of fires.values()) f.logged = errors.filter((text) => text.includes(TASK_NAME) && text.includes(f.slot));

  // Planned fires: every slot from one before the first faulted fire to two after the last. The orchestrator arms
  // a fault only while at least two other workers are up with the task started, one victim at a time, so every
  // worker that is dead, stopped or restarting has company that plans each of these slots.
  const planned: string[] = [];
  if (arms.length > 0) {
    const first = Date.parse(arms[0]!.slot as string) - 1000;
    const last = Date.parse(arms.at(-1)!.slot as string) + 2000;
    for (let ms = first; ms <= last; ms += 1000) planned.push(new Date(ms).toISOString());
  }

  const violations: string[] = [];
  const observations: string[] = [];
  const cases: CaseOutcome[] = [];
  const caseOf = new Map<string, CaseOutcome>();
  for (const arm of arms) {
    const slot = arm.slot as string;
    const victim = arm.victim as number;
    const mine = records.filter((r) => r.file === String(victim) && r.slot === slot);
    const fault = mine.find((r) => r.type === 'fault');
    const f = fire(slot);
    let won: boolean | 'n/a';
    let wonHow: string;
    if (arm.phase === 'before') {
      won = 'n/a';
      wonHow = fault ? 'never asked' : 'not struck';
    } else if (!fault) {
      won = false;
      wonHow = String(mine.find((r) => r.type === 'not-triggered')?.why ?? 'no record');
    } else if (arm.phase !== 'asked') {
      won = true;
      wonHow = arm.phase === 'answered' ? 'reply elected' : 'ran';
    } else {
      const reply = mine.find((r) => r.type === 'reply');
      if (reply) {
        won = reply.elected === true;
        wonHow = `reply ${reply.elected === true ? 'elected' : `not elected (${String(reply.code ?? 'ok')})`}`;
      } else {
        // No reply seen (SIGKILLed in the send callback): the first request of the host wins.
        const sent = records.filter((r) => isWorkerFile(r) && r.type === 'sent' && r.slot === slot);
        const mineSent = sent.find((r) => r.pid === victim);
        won = mineSent !== undefined && sent.every((r) => r.pid === victim || r.at > mineSent.at);
        wonHow = won ? 'sent first' : 'sent after another worker';
      }
    }
    const ran = f.runs.length > 1 ? 'twice' : f.runs.length === 0 ? 'nowhere' : f.runs[0] === victim ? 'victim' : 'elsewhere';
    const outcome: CaseOutcome = { slot, caseId: arm.caseId as string, fault: arm.fault as string, phase: arm.phase as string, victim, triggered: fault !== undefined, won, wonHow, ran, fire: f };
    cases.push(outcome);
    caseOf.set(slot, outcome);
    if (arm.fault === 'sigkill' && fault?.phase === 'running' && f.logged.length === 0) {
      violations.push(`${label} ${slot} [${outcome.caseId}]: the winner (pid ${victim}) was SIGKILLed while running the fire, and the authority logged no error naming ${TASK_NAME} and the slot`);
    }
  }

  const describeCase = (slot: string) => {
    const c = caseOf.get(slot);
    return c ? ` [${c.caseId}, victim ${c.victim}${c.won === true ? ' (the winner)' : ''}, ${c.triggered ? 'struck' : 'not struck'}]` : ' [no fault armed for this fire]';
  };
  for (const f of fires.values()) {
    if (f.runs.length > 1) violations.push(`${label} ${f.slot}${describeCase(f.slot)}: ran ${f.runs.length} times, by pids ${f.runs.join(', ')}`);
  }
  for (const slot of planned) {
    const f = fire(slot);
    if (f.runs.length > 0) {
      const late = records.find((r) => isWorkerFile(r) && r.type === 'run' && r.slot === slot && r.at - Date.parse(slot) > 2000);
      if (late) observations.push(`${slot}${describeCase(slot)}: ran ${late.at - Date.parse(slot)} ms after its slot (pid ${late.pid})`);
      const notRun = f.reports.filter((r) => r.type !== 'missed');
      if (notRun.length > 0) {
        observations.push(`${slot}${describeCase(slot)}: ran, and was also reported as not run: ${notRun.map((r) => `${r.type}@${r.pid} (${r.error ?? 'no error'})`).join('; ')}`);
      }
      continue;
    }
    const valid = f.reports.filter((r) => r.valid);
    const missing: string[] = [];
    if (valid.length === 0) {
      const invalid = f.reports.filter((r) => !r.valid);
      missing.push(
        invalid.length > 0
          ? `no process reported it with a cause (only ${invalid.map((r) => `${r.type} by ${r.pid} without ctx.error`).join(', ')})`
          : `no process reported it (askers: ${[...new Set(f.askers)].join(', ') || 'none'})`,
      );
    }
    if (f.logged.length === 0) missing.push(`the authority logged no error naming ${TASK_NAME} and the slot`);
    if (missing.length > 0) violations.push(`${label} ${slot}${describeCase(slot)}: did not run, and ${missing.join('; and ')}`);
  }

  const ranOnce = planned.filter((slot) => fire(slot).runs.length === 1).length;
  const summary =
    `planned fires: ${planned.length} (${planned[0] ?? '-'} to ${planned.at(-1) ?? '-'}), of which ran once: ${ranOnce}, ` +
    `ran nowhere: ${planned.filter((slot) => fire(slot).runs.length === 0).length}, ran more than once: ${planned.length - ranOnce - planned.filter((slot) => fire(slot).runs.length === 0).length}; ` +
    `faulted fires: ${cases.length}`;
  return { planned, fires, cases, violations, observations, table: `${table(cases, label)}\n${summary}` };
}

/** The case's fire broke the contract: ran twice; ran nowhere, unreported or unlogged; its winner was killed mid-run unlogged. */
function bad(o: CaseOutcome): boolean {
  const accounted = o.fire.reports.some((r) => r.valid) && o.fire.logged.length > 0;
  return o.ran === 'twice' || (o.ran === 'nowhere' && !accounted) || (o.fault === 'sigkill' && o.phase === 'running' && o.triggered && o.fire.logged.length === 0);
}

function table(cases: CaseOutcome[], label: string): string {
  const rows = CASES.map((c) => {
    const of = cases.filter((o) => o.caseId === c.id);
    const count = (p: (o: CaseOutcome) => boolean) => of.filter(p).length;
    return [
      c.id.padEnd(18),
      String(of.length).padStart(5),
      String(count((o) => o.triggered)).padStart(7),
      (c.phase === 'before' ? 'n/a' : String(count((o) => o.won === true))).padStart(6),
      String(count((o) => o.ran === 'victim')).padStart(6),
      String(count((o) => o.ran === 'elsewhere')).padStart(9),
      String(count((o) => o.ran === 'nowhere' && o.fire.reports.some((r) => r.valid) && o.fire.logged.length > 0)).padStart(8),
      String(count(bad)).padStart(5),
    ].join(' ');
  });
  const header = `${'case'.padEnd(18)} armed struck winner victim elsewhere reported  BAD`;
  const { struck, afterAsking, won } = coverage(cases);
  const legend =
    `cases struck: ${struck.size}/${CASES.length}; faults struck after asking that hit the fire's winner: ${won}/${afterAsking}\n` +
    `(victim/elsewhere: the fire ran on the victim / on another worker; reported: it ran nowhere, was reported by a process and logged by the authority; BAD: ran twice, ran nowhere unreported or unlogged, or its winner was SIGKILLed mid-run and the authority logged nothing)`;
  return [`fault matrix, ${label}:`, header, ...rows, legend].join('\n');
}

/** One line per faulted fire: what happened to it (for the failure output and the run log). */
export function details(result: MatrixResult): string {
  return result.cases
    .map((c) => {
      const f = c.fire;
      const reports = f.reports.map((r) => `${r.type}@${r.pid}${r.error ? `(${r.error.slice(0, 80)})` : r.valid ? '' : '(no error)'}`).join(' ');
      return `${c.slot} ${c.caseId.padEnd(18)} victim ${c.victim} ${c.triggered ? 'struck' : 'not struck'} won=${String(c.won)} (${c.wonHow}) ran=${c.ran}${f.runs.length ? `[${f.runs.join(',')}]` : ''} reports=[${reports}] logged=${f.logged.length}`;
    })
    .join('\n');
}

/** Which cases struck at least once, and how many faults struck after asking hit the fire's winner. */
export function coverage(cases: CaseOutcome[]): { struck: Set<string>; afterAsking: number; won: number } {
  const struckCases = cases.filter((c) => c.triggered);
  const afterAsking = struckCases.filter((c) => c.phase !== 'before');
  return { struck: new Set(struckCases.map((c) => c.caseId)), afterAsking: afterAsking.length, won: afterAsking.filter((c) => c.won === true).length };
}
