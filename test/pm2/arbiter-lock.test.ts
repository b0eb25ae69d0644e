import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
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
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
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

/** A server of this test at `address`, answering each connection with `answer`. */
function listenAt(address: string, answer: (socket: import('node:net').Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    answer(socket);
  });
  servers.push(server);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address, () => resolve(server));
  });
}

describe('the one-arbiter lock of a PM2 daemon', () => {
  it('is a socket file in PM2_HOME, or on Windows a pipe with one name per PM2_HOME directory however spelled', () => {
    const [a, b] = [pm2Home(), pm2Home()];
    symlinkSync(a, `${b}/link`);
    expect(lockAddress(a, 'win32')).toBe(lockAddress(`${b}/link/`, 'win32'));
    expect(lockAddress(a, 'win32')).not.toBe(lockAddress(b, 'win32'));
    expect(lockAddress(a, 'win32')).toMatch(/^\\\\\.\\pipe\\fleetcron-arbiter-[0-9a-f]{24}$/);
    for (const platform of ['linux', 'darwin'] as const) expect(lockAddress(a, platform)).toBe(join(a, 'fleetcron.sock'));
  });

  it('names a missing PM2_HOME in its error', () => {
    expect(() => lockAddress('/nonexistent/pm2-home', 'win32')).toThrow(/\/nonexistent\/pm2-home/);
  });

  const platform = process.platform;
  it.runIf(process.platform === 'linux')('cannot be squatted by a process that knows no more than PM2_HOME\'s path', async () => {
    // Anyone can bind an abstract socket of any name, and the name the lock had on Linux was derived from what
    // `stat PM2_HOME` tells any user (its device and inode). Squatting it kept every arbiter standing by.
    const home = pm2Home();
    const { dev, ino } = statSync(home, { bigint: true });
    const oldName = `\0fleetcron-arbiter-${createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 24)}`;
    await listenAt(oldName, (socket) => socket.end(JSON.stringify({ pid: 1 })));

    const lock = await tryLock(lockAddress(home), { pid: process.pid });
    expect(lock).toMatchObject({ held: true });
    if (lock.held) await lock.release();
  });

  describe(`as ${platform === 'win32' ? 'a named pipe' : 'a socket file in PM2_HOME'}`, () => {
    it('reads a bounded answer from a holder that streams without end, and reports an unknown holder', async () => {
      const home = pm2Home();
      let written = 0;
      const chunk = Buffer.alloc(1 << 16, 'x');
      await listenAt(lockAddress(home, platform), (socket) => {
        const flood = (): void => {
          while (!socket.destroyed && socket.write(chunk)) written += chunk.length;
        };
        socket.on('drain', flood);
        flood();
      });

      // The asker is a process of its own: reading without a bound, it ran out of memory and crashed.
      const { child, outcome } = await holder(home, platform);
      expect(outcome).toEqual({ held: false });
      expect(child.exitCode).toBeNull();
      expect(written).toBeLessThan(64 << 20);
    }, 60_000);

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
      const lock = await waiter.held;
      expect(await outcome(cancelled)).toBe('waiting');
      expect(await tryLock(address, { pid: 1 })).toEqual({ held: false, holder: { pid: process.pid } });
      await lock.release();
      expect(errors).toEqual([]);
    });

    it.runIf(platform !== 'win32')('has one holder when several take a free lock at once', async () => {
      const address = lockAddress(pm2Home(), platform);
      const attempts = await Promise.all([1, 2, 3, 4].map((pid) => tryLock(address, { pid })));
      const held = attempts.filter((a) => a.held);
      expect(held).toHaveLength(1);
      const [winner] = held;
      expect(attempts.filter((a) => !a.held)).toEqual(attempts.filter((a) => !a.held).map(() => ({ held: false, holder: { pid: attempts.indexOf(winner!) + 1 } })));
      await winner?.release();
    });

    it.runIf(platform !== 'win32')('is lost when its file is deleted from under it, and leaves the next holder\'s file alone', async () => {
      const address = lockAddress(pm2Home(), platform);
      const lock = await tryLock(address, { pid: process.pid });
      if (!lock.held) throw new Error('the lock was not free');
      rmSync(address);
      await lock.lost;
      const next = await tryLock(address, { pid: 2 });
      expect(next.held).toBe(true);
      expect(await tryLock(address, { pid: 3 })).toEqual({ held: false, holder: { pid: 2 } });
      await lock.release();
      expect(existsSync(address)).toBe(true);
      if (next.held) await next.release();
    });

    it('is free again as soon as its holder is killed with SIGKILL, with nothing left behind to clean up', async () => {
      const home = pm2Home();
      const address = lockAddress(home, platform);
      const { child, outcome } = await holder(home, platform);
      expect(outcome.held).toBe(true);
      // Only its owner may connect to it (and only those who may write to PM2_HOME could have created it).
      if (platform !== 'win32') expect(statSync(address).mode & 0o777).toBe(0o600);

      child.kill('SIGKILL');
      await waitFor(() => !isAlive(child.pid!), 5000, 'the holder to die');
      const lock = await tryLock(address, { pid: process.pid });
      expect(lock.held).toBe(true);
      if (lock.held) await lock.release();
      expect(existsSync(address)).toBe(false);
    });
  });
});
