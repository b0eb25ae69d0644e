import { readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { Fixture, isAlive, type Report } from '../support/processes.js';

/** Every pid a fixture's reports name as a daemon: task files report `process.pid` from inside it. */
function daemonPids(fixture: Fixture): number[] {
  const pids = fixture.reports.filter((r) => ['run', 'slow-start', 'hog-start'].includes(r.type)).map((r) => r.pid as number);
  return [...new Set(pids)];
}

/** True once the process is gone or has exited and only waits to be reaped (a zombie still answers kill 0). */
export function hasExited(pid: number): boolean {
  if (!isAlive(pid)) return true;
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

export async function waitExited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!hasExited(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/**
 * Starts fixtures from test/fixtures/background and, after each test, stops them and kills (by pid) any daemon
 * they reported that is still running, so a failing test leaves nothing behind.
 */
export function backgroundFixtures(): (script: string, env?: NodeJS.ProcessEnv) => Fixture {
  const started: Fixture[] = [];
  afterEach(async () => {
    const fixtures = started.splice(0);
    await Promise.all(fixtures.map((fixture) => fixture.stop()));
    for (const pid of fixtures.flatMap(daemonPids)) {
      if (!(await waitExited(pid, 3000))) process.kill(pid, 'SIGKILL');
    }
  });
  return (script, env = {}) => {
    const fixture = new Fixture(`background/${script}`, env);
    started.push(fixture);
    return fixture;
  };
}

export const ofType = (type: string) => (reports: Report[]) => reports.some((r) => r.type === type);
