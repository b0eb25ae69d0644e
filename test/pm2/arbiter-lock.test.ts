import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { lockAddress, tryLock, waitForLock, type LockWait } from '../../src/pm2/arbiter-lock.js';
import { waitFor } from '../support/pm2.js';
import { isAlive, TS_NODE_ARGS } from '../support/processes.js';
import { fixture } from './helpers.js';

const started: ChildProcess[] = [];
const homes: string[] = [];

afterEach(async () => {
  for (const child of started.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await waitFor(() => !isAlive(child.pid!), 5000, `lock holder ${child.pid} to exit`);
  }
  for (const home of homes.splice(0)) rmSync(home, { recursive: true, force: true });
});

function pm2Home(): string {
  const home = mkdtempSync(join(tmpdir(), 'fc-lock-'));
  homes.push(home);
  return home;
}

/** A separate process that takes the lock of `home` and holds it; resolves with what it printed. */
function holder(home: string, platform: NodeJS.Platform): Promise<{ child: ChildProcess; outcome: { held: boolean } }> {
  const env = { ...process.env, PM2_HOME: home, LOCK_PLATFORM: platform };
  const child = spawn(process.execPath, [...TS_NODE_ARGS, fixture('hold-lock.mts')], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve({ child, outcome: JSON.parse(chunk.toString()) as { held: boolean } }));
    child.once('exit', (code) => reject(new Error(`the lock holder exited (${code}) before taking the lock`)));
  });
}

describe('the one-arbiter lock of a PM2 daemon', () => {
  it('has one address per PM2_HOME directory, however its path is spelled, and another for another directory', () => {
    const [a, b] = [pm2Home(), pm2Home()];
    symlinkSync(a, `${b}/link`);
    for (const platform of ['linux', 'win32'] as const) {
      expect(lockAddress(a, platform)).toBe(lockAddress(`${b}/link/`, platform));
      expect(lockAddress(a, platform)).not.toBe(lockAddress(b, platform));
    }
    expect(lockAddress(a, 'linux')).toMatch(/^\0fleetcron-arbiter-[0-9a-f]{24}$/);
    expect(lockAddress(a, 'win32')).toMatch(/^\\\\\.\\pipe\\fleetcron-arbiter-[0-9a-f]{24}$/);
    expect(lockAddress(a, 'darwin')).toBe(join(a, 'fleetcron-arbiter.sock'));
  });

  it('names a missing PM2_HOME in its error', () => {
    expect(() => lockAddress('/nonexistent/pm2-home', 'linux')).toThrow(/\/nonexistent\/pm2-home/);
  });

  const kinds = [
    ...(process.platform === 'linux' ? [['an abstract socket (Linux)', 'linux'] as const] : []),
    ['a socket file in PM2_HOME (macOS, BSD)', 'darwin'] as const,
  ];
  describe.each(kinds)('as %s', (_, platform) => {
    it('has one holder at a time: another process learns who holds it, and takes it once it is released', async () => {
      const home = pm2Home();
      const address = lockAddress(home, platform);
      const first = await tryLock(address, { pid: process.pid });
      expect(first.held).toBe(true);

      const { outcome } = await holder(home, platform);
      expect(outcome).toEqual({ held: false, holder: { pid: process.pid } });
      expect(await tryLock(address, { pid: process.pid })).toEqual({ held: false, holder: { pid: process.pid } });

      if (first.held) await first.release();
      const next = await holder(home, platform);
      expect(next.outcome.held).toBe(true);
      expect(await tryLock(address, { pid: process.pid })).toEqual({ held: false, holder: { pid: next.child.pid, pmId: 7 } });
    });

    it('a waiter takes it once the holder dies; a cancelled waiter never does', async () => {
      const home = pm2Home();
      const address = lockAddress(home, platform);
      const { child } = await holder(home, platform);
      const errors: unknown[] = [];
      const waiter = waitForLock(address, { pid: process.pid }, 50, (error) => errors.push(error));
      const cancelled = waitForLock(address, { pid: process.pid }, 50, (error) => errors.push(error));
      cancelled.cancel();
      const outcome = (wait: LockWait) => Promise.race([wait.held.then(() => 'held'), sleep(300, 'waiting')]);
      expect(await outcome(waiter)).toBe('waiting');

      child.kill('SIGKILL');
      const release = await waiter.held;
      expect(await outcome(cancelled)).toBe('waiting');
      expect(await tryLock(address, { pid: 1 })).toEqual({ held: false, holder: { pid: process.pid } });
      await release();
      expect(errors).toEqual([]);
    });

    it('is free again as soon as its holder is killed with SIGKILL, with nothing left behind to clean up', async () => {
      const home = pm2Home();
      const address = lockAddress(home, platform);
      const { child, outcome } = await holder(home, platform);
      expect(outcome.held).toBe(true);
      if (platform === 'darwin') expect(existsSync(address)).toBe(true);

      child.kill('SIGKILL');
      await waitFor(() => !isAlive(child.pid!), 5000, 'the holder to die');
      const lock = await tryLock(address, { pid: process.pid });
      expect(lock.held).toBe(true);
      if (lock.held) await lock.release();
      expect(existsSync(address)).toBe(false);
    });
  });
});
