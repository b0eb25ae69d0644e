import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';

/** Who holds the lock, as the holder tells a process that asks. */
export interface LockHolder {
  pid: number;
  pmId?: number;
}

export type LockAttempt = { held: true; release(): Promise<void> } | { held: false; holder?: LockHolder };

/**
 * The address of the one-arbiter lock of a PM2 daemon. On Linux an abstract unix socket and on Windows a named
 * pipe: the OS frees either the moment its holder dies, however it dies, and no file is left to go stale. Their
 * name comes from the identity of the PM2_HOME directory (device and inode), not its path: two containers of one
 * Kubernetes pod share abstract sockets, and both may run PM2 with the same PM2_HOME path but in filesystems of
 * their own. Elsewhere a socket file in PM2_HOME, whose leftover after a crash is recognised by a refused connection.
 */
export function lockAddress(pm2Home: string, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'linux' && platform !== 'win32') return join(pm2Home, 'fleetcron-arbiter.sock');
  const { dev, ino } = statSync(pm2Home, { bigint: true });
  const id = createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 24);
  return platform === 'linux' ? `\0fleetcron-arbiter-${id}` : `\\\\.\\pipe\\fleetcron-arbiter-${id}`;
}

/** Takes the lock at `address` unless a live process holds it; then says who does, when it answers. */
export async function tryLock(address: string, self: LockHolder): Promise<LockAttempt> {
  const attempt = await listen(address, self);
  if (attempt.held) return attempt;
  const holder = await askHolder(address);
  if (holder !== 'gone' || !isFile(address)) return { held: false, holder: holder === 'gone' ? undefined : holder };
  // A socket file nobody listens on: its holder crashed. Another process may be doing the same; the one that
  // listens first holds the lock, the other finds it in use.
  await unlink(address).catch(() => undefined);
  const retry = await listen(address, self);
  return retry.held ? retry : { held: false, holder: await askHolder(address).then((h) => (h === 'gone' ? undefined : h)) };
}

function listen(address: string, self: LockHolder): Promise<LockAttempt> {
  const server = createServer((socket) => socket.end(JSON.stringify(self)));
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve({ held: false }) : reject(error)));
    // Exclusive: in a cluster worker (a PM2 cluster-mode instance) a plain listen() goes through the cluster primary,
    // which hands every worker that asks for the address the same handle, so each would hold the lock.
    server.listen({ path: address, exclusive: true }, () => {
      server.unref();
      resolve({ held: true, release: () => close(server) });
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const ASK_TIMEOUT_MS = 1000;

/** The holder's identity; undefined when it does not say in time; 'gone' when nobody listens. */
function askHolder(address: string): Promise<LockHolder | undefined | 'gone'> {
  return new Promise((resolve) => {
    let text = '';
    const socket = connect(address);
    socket.setTimeout(ASK_TIMEOUT_MS, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'gone' : undefined));
    socket.once('close', () => resolve(parseHolder(text)));
  });
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const { pid, pmId } = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(pid)) return undefined;
    return Number.isSafeInteger(pmId) ? { pid: pid as number, pmId } : { pid: pid as number };
  } catch {
    return undefined;
  }
}

function isFile(address: string): boolean {
  return !address.startsWith('\0') && !address.startsWith('\\\\.\\pipe\\');
}

export interface LockWait {
  /** Resolves with the lock's release once this process holds it; never, if cancelled first. */
  readonly held: Promise<() => Promise<void>>;
  cancel(): void;
}

/** Tries the lock every `retryMs` until it is free. The wait alone never keeps the process alive. */
export function waitForLock(address: string, self: LockHolder, retryMs: number, onError: (error: unknown) => void): LockWait {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<() => Promise<void>>((resolve) => {
    const later = (): void => {
      timer = setTimeout(attempt, retryMs);
      timer.unref();
    };
    const attempt = (): void => {
      tryLock(address, self).then(
        (lock) => {
          if (!lock.held) return later();
          if (cancelled) return void lock.release();
          resolve(lock.release);
        },
        (error: unknown) => {
          onError(error);
          later();
        },
      );
    };
    later();
  });
  return {
    held,
    cancel() {
      cancelled = true;
      clearTimeout(timer);
    },
  };
}
