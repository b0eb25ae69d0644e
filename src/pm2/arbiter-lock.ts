import { createHash, randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { chmod, rename, stat, unlink } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who holds the lock, as the holder tells a process that asks. */
export interface LockHolder {
  pid: number;
  pmId?: number;
}

export interface HeldLock {
  held: true;
  /** Resolves if another process took the lock from under this one (see tryLock); never after release(). */
  readonly lost: Promise<void>;
  release(): Promise<void>;
}

export type LockAttempt = HeldLock | { held: false; holder?: LockHolder };

/**
 * The address of the one-arbiter lock of a PM2 daemon: a socket file in PM2_HOME, which only those who may write
 * there can create or (with its owner-only mode) connect to, as with PM2's own sockets beside it. No address in a
 * namespace that every local user shares (Linux's abstract sockets): another user could take it first, and every
 * arbiter would stand by. On Windows a named pipe, named after the identity of the PM2_HOME directory.
 */
export function lockAddress(pm2Home: string, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return join(pm2Home, LOCK_FILE);
  const { dev, ino } = statSync(pm2Home, { bigint: true });
  return `\\\\.\\pipe\\fleetcron-arbiter-${createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 24)}`;
}

// No longer than PM2's own `interactor.sock`, so that whatever PM2_HOME fits PM2's socket paths fits these.
const LOCK_FILE = 'fleetcron.sock';
const candidateFile = (): string => `fc-${randomBytes(3).toString('hex')}.sock`;

/** How long a new holder waits before it trusts the lock file to stay its own (see tryLock). */
const SETTLE_MS = 200;
/** How often a holder checks that the lock file is still its own. */
const CHECK_MS = 1000;

/**
 * Takes the lock at `address` unless a live process holds it; then says who does, when it answers.
 *
 * A socket file outlives a holder that crashes, but nothing listens on it then, so a refused connection marks it
 * free. The taker listens on a socket file of its own and renames it over the lock file: the rename is atomic, so
 * the lock file always names one socket, and the OS stops that socket listening however its holder dies. Two
 * takers that both found the lock free both rename, and the last one wins: each waits a moment, then holds the
 * lock only if the file is still its socket. A holder keeps checking, and gives the lock up as `lost` if the file
 * changes (a taker that lost the race but stalled before renaming, or someone deleting the file).
 */
export async function tryLock(address: string, self: LockHolder): Promise<LockAttempt> {
  if (!isFile(address)) return listenOnPipe(address, self);
  const current = await askHolder(address);
  if (current !== 'gone') return notHeld(current);
  const candidate = join(dirname(address), candidateFile());
  const server = await listen(candidate, self);
  if (!server) return notHeld(await askHolder(address));
  try {
    await chmod(candidate, 0o600);
    const { ino } = await stat(candidate);
    await rename(candidate, address);
    await sleep(SETTLE_MS);
    if (await isSocket(address, ino)) return heldFile(address, ino, server);
  } catch (error) {
    await closeServer(server);
    throw error;
  }
  await closeServer(server);
  return notHeld(await askHolder(address));
}

function heldFile(address: string, ino: number, server: Server): HeldLock {
  let released = false;
  let timer: NodeJS.Timeout | undefined;
  const lost = new Promise<void>((resolve) => {
    const check = (): void => {
      void isSocket(address, ino).then(async (ours) => {
        if (released) return;
        if (ours) return void (timer = setTimeout(check, CHECK_MS).unref());
        released = true;
        await closeServer(server);
        resolve();
      });
    };
    timer = setTimeout(check, CHECK_MS).unref();
  });
  return {
    held: true,
    lost,
    async release() {
      if (released) return;
      released = true;
      clearTimeout(timer);
      // Unlinked first: a taker who finds the file gone renames its own into place, which this one must not remove.
      if (await isSocket(address, ino)) await unlink(address).catch(() => undefined);
      await closeServer(server);
    },
  };
}

async function isSocket(address: string, ino: number): Promise<boolean> {
  try {
    return (await stat(address)).ino === ino;
  } catch {
    return false;
  }
}

async function listenOnPipe(address: string, self: LockHolder): Promise<LockAttempt> {
  const server = await listen(address, self);
  if (!server) return notHeld(await askHolder(address));
  return { held: true, lost: new Promise<void>(() => undefined), release: () => closeServer(server) };
}

const notHeld = (holder: LockHolder | undefined | 'gone'): LockAttempt => ({ held: false, ...(holder && holder !== 'gone' ? { holder } : {}) });

/** A server at `address` answering who holds the lock; undefined when the address is in use. */
function listen(address: string, self: LockHolder): Promise<Server | undefined> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.end(JSON.stringify(self));
  });
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    // Exclusive: in a cluster worker (a PM2 cluster-mode instance) a plain listen() goes through the cluster primary,
    // which hands every worker that asks for the address the same handle, so each would hold the lock.
    server.listen({ path: address, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

const ASK_TIMEOUT_MS = 1000;
/** A holder's answer is a short JSON object; anything longer is not one. */
const MAX_ANSWER_BYTES = 1024;

/** The holder's identity; undefined when it does not say in time, or says too much; 'gone' when nobody listens. */
function askHolder(address: string): Promise<LockHolder | undefined | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const socket = connect(address);
    const timer = setTimeout(() => socket.destroy(), ASK_TIMEOUT_MS);
    socket.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > MAX_ANSWER_BYTES) return void socket.destroy();
      chunks.push(chunk);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code === 'ECONNREFUSED' || error.code === 'ENOENT' ? 'gone' : undefined);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(length > MAX_ANSWER_BYTES ? undefined : parseHolder(Buffer.concat(chunks).toString()));
    });
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
  return !address.startsWith('\\\\.\\pipe\\');
}

export interface LockWait {
  /** Resolves with the lock once this process holds it; never, if cancelled first. */
  readonly held: Promise<HeldLock>;
  cancel(): void;
}

/** Tries the lock every `retryMs` until it is free. The wait alone never keeps the process alive. */
export function waitForLock(address: string, self: LockHolder, retryMs: number, onError: (error: unknown) => void): LockWait {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  const held = new Promise<HeldLock>((resolve) => {
    const later = (): void => {
      timer = setTimeout(attempt, retryMs);
      timer.unref();
    };
    const attempt = (): void => {
      tryLock(address, self).then(
        (lock) => {
          if (!lock.held) return later();
          if (cancelled) return void lock.release();
          resolve(lock);
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
