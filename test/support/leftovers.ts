import { readdirSync, readFileSync } from 'node:fs';
import { isAlive } from './processes.js';

/**
 * SIGCONTs and SIGKILLs each of `pids` that is still alive and whose command line or environment contains `marker`
 * (a guard against a pid reused by somebody else's process). For processes a test started indirectly (cluster
 * workers, PM2 instances) that may outlive their parent, e.g. when left SIGSTOPped. Returns the pids it killed.
 */
export function killLeftovers(pids: Iterable<number>, marker: string): number[] {
  const killed: number[] = [];
  for (const pid of new Set(pids)) {
    if (!(pid > 0) || pid === process.pid || !isAlive(pid) || !carries(pid, marker)) continue;
    try {
      process.kill(pid, 'SIGCONT');
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return killed;
}

/**
 * The live processes, other than this one, whose command line or environment contains `marker`: whatever a test
 * started with that marker in its environment and is still there, however deep in the process tree (Linux only;
 * elsewhere none are found).
 */
export function processesCarrying(marker: string): number[] {
  if (process.platform !== 'linux') return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid && carries(pid, marker));
}

function carries(pid: number, marker: string): boolean {
  if (process.platform !== 'linux') return false;
  for (const file of ['cmdline', 'environ']) {
    try {
      if (readFileSync(`/proc/${pid}/${file}`, 'utf8').includes(marker)) return true;
    } catch {
      // Not readable, or gone.
    }
  }
  return false;
}
