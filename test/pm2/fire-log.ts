import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Pm2Harness } from '../support/pm2.js';

const require = createRequire(import.meta.url);

/** One fire of the heartbeat task (fixtures/heartbeat.mts): who ran it, who skipped it and why. */
export interface HeartbeatFire {
  /** The fire's planned time (ISO). */
  slot: string;
  ran: string[];
  skipped: { who: string; reason: string }[];
}

const LINE = /^heartbeat (\S+) (ran|skipped) by (\S+)(?: \(([\w-]+)\))?$/;

/**
 * The heartbeat fires `app` logged on the daemon of `pm2`, by slot, in slot order. `participants` is how many
 * processes decide each fire (they all schedule the task): a fire is complete once each of them has logged it.
 */
export function heartbeats(pm2: Pm2Harness, app: string, participants: number) {
  const fires = (): HeartbeatFire[] => {
    const bySlot = new Map<string, HeartbeatFire>();
    for (const line of pm2.lines) {
      if (line.app !== app) continue;
      const match = LINE.exec(line.text);
      if (!match) continue;
      const [, slot, outcome, who, reason] = match as unknown as [string, string, string, string, string | undefined];
      const fire = bySlot.get(slot) ?? { slot, ran: [], skipped: [] };
      bySlot.set(slot, fire);
      if (outcome === 'ran') fire.ran.push(who);
      else fire.skipped.push({ who, reason: reason ?? '?' });
    }
    return [...bySlot.values()].sort((a, b) => a.slot.localeCompare(b.slot));
  };
  const complete = (fire: HeartbeatFire) => fire.ran.length + fire.skipped.length === participants;
  /** Run by exactly one process; every other one lost the election. */
  const elected = (fire: HeartbeatFire) => complete(fire) && fire.ran.length === 1 && fire.skipped.every((s) => s.reason === 'not-elected');
  /** Run nowhere, and reported so by every process. */
  const gap = (fire: HeartbeatFire) => complete(fire) && fire.ran.length === 0 && fire.skipped.every((s) => s.reason === 'coordinator-error');
  /**
   * The fires after `since` from the first complete one that ran somewhere and that no process skipped as
   * coordinator-error (every process reaches its authority: startup is over) on, up to the last complete one. A
   * fire run twice counts: the test then fails on it rather than waiting in vain.
   */
  const settled = (since = ''): HeartbeatFire[] => {
    const all = fires().filter((f) => f.slot > since);
    const first = all.findIndex((f) => complete(f) && f.ran.length > 0 && f.skipped.every((s) => s.reason !== 'coordinator-error'));
    if (first < 0) return [];
    return all.slice(first, all.findLastIndex(complete) + 1);
  };
  return { fires, complete, elected, gap, settled };
}

/** Runs the PM2 CLI against the daemon of `pm2` (its PM2_HOME), e.g. `pm2 stop <name>`; resolves with its output. */
export function pm2Cli(pm2: Pm2Harness, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [require.resolve('pm2/bin/pm2'), ...args],
      { env: { ...process.env, PM2_HOME: pm2.home, PM2_DISABLE_VERSION_CHECK: 'true' }, timeout: 20_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`pm2 ${args.join(' ')} failed: ${error.message}\n${stdout}${stderr}`)) : resolve(stdout)),
    );
  });
}

/** The time the logger stamped on a fleetcron log line (`[2026-01-01T00:00:00.000Z] [PID: …] …`). */
export function stampOf(text: string): string {
  const stamp = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\]/.exec(text)?.[1];
  if (!stamp) throw new Error(`no timestamp on the log line: ${text}`);
  return stamp;
}
