import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisServerOptions {
  password?: string;
  /** A one-node cluster holding every slot, for cluster clients. */
  cluster?: boolean;
  /** A given port (to bring a stopped server back where its clients look for it); default a free one. */
  port?: number;
}

export interface RedisServer {
  port: number;
  /** `redis://[:password@]127.0.0.1:port` */
  url: string;
  /**
   * Kills this server's process (by its pid) and waits for it to exit. Safe to call twice. `SIGKILL` is a crash:
   * no shutdown, not even Redis 7's wait for lagging replicas.
   */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

/**
 * Whether the shared Redis on 127.0.0.1:6379 answers PING. Under CI its absence is an error; elsewhere the
 * caller skips its tests (`describe.skipIf(!available)`) and a message says why.
 */
export async function requireRedis(): Promise<boolean> {
  if (await answersPing(6379)) return true;
  const message = 'Redis on 127.0.0.1:6379 is required by the Redis tests and is not reachable';
  if (process.env.CI) throw new Error(message);
  console.warn(`${message}; skipping them.`);
  return false;
}

/** A key prefix no other test file or run shares, so tests can use the shared server concurrently. */
export function uniqueTestPrefix(): string {
  return `fleetcron-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key of the shared Redis (or the one at `url`) that starts with `prefix`; resolves with how many. */
export async function deleteKeysUnder(prefix: string, url = SHARED_REDIS_URL): Promise<number> {
  const client = new Redis(url, { lazyConnect: true });
  client.on('error', () => {});
  try {
    await client.connect();
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    client.disconnect();
  }
}

/** Starts a private, non-persistent `redis-server` on a free loopback port and waits until it serves. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (options.port !== undefined) return startOn(options.port, options);
  // Another process can take the free port between probing and binding it; try again on a new one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(await freePort(), options);
    } catch (err) {
      if (attempt === 3) throw err;
    }
  }
}

async function startOn(port: number, { password, cluster = false }: RedisServerOptions): Promise<RedisServer> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'];
  if (password !== undefined) args.push('--requirepass', password);
  // A directory of its own: a replica writes the snapshot it syncs from its primary there, and a cluster node its config.
  const dir = await mkdtemp(join(tmpdir(), 'fleetcron-redis-'));
  args.push('--dir', dir);
  if (cluster) {
    // Without an announced address the node advertises an empty host and cluster clients cannot follow it.
    args.push('--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, 'nodes.conf'));
  }
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot start redis-server: ${err.message}`))),
  );
  // Should this process exit without stopping the server (an uncaught error, process.exit), the server goes too.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    process.off('exit', killOnExit);
    await stopChild(child, exited, signal);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await Promise.race([waitUntilServing(port, cluster, exited, () => output), spawnError]);
  } catch (err) {
    await stop();
    throw err;
  }
  const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`;
  return { port, url: `redis://${auth}127.0.0.1:${port}`, stop };
}

async function waitUntilServing(port: number, cluster: boolean, exited: Promise<void>, output: () => string): Promise<void> {
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const deadline = Date.now() + 10_000;
  const until = async (condition: () => Promise<boolean>, what: string) => {
    while (!(await condition())) {
      if (hasExited) throw new Error(`redis-server on port ${port} exited before ${what}:\n${output()}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} not ${what} within 10 s:\n${output()}`);
      await sleep(20);
    }
  };
  await until(() => answersPing(port), 'answering');
  if (!cluster) return;
  await command(port, ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383']);
  await until(async () => (await command(port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok'), 'serving its slots');
}

async function stopChild(child: ChildProcess, exited: Promise<void>, signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** True when something on 127.0.0.1:port speaks RESP; a password-protected server answers NOAUTH. */
async function answersPing(port: number): Promise<boolean> {
  return command(port, ['PING']).then(
    (reply) => /^(\+PONG|-NOAUTH)/.test(reply),
    () => false,
  );
}

/** Sends one command on a fresh connection and returns its raw reply (a status, an error or one bulk string). */
function command(port: number, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(reply);
    };
    socket.setTimeout(1_000, () => done(new Error(`no reply to ${args.join(' ')}`)));
    socket.once('error', done);
    socket.once('connect', () => socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`));
    socket.on('data', (data) => {
      reply += data.toString();
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.includes('\r\n')) done();
    });
  });
}

/** A loopback port nothing listens on (free when probed). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}

/**
 * Watches every command a server receives (Redis MONITOR), for tests that count what Redis really sees: what clients
 * sent and, unless `fromScripts` is false, what Lua scripts ran inside Redis.
 */
export async function monitorCommands(port: number, { fromScripts = true } = {}): Promise<{ commands: string[][]; stop(): void }> {
  const socket = createConnection({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const commands: string[][] = [];
  let pending = '';
  socket.on('data', (data) => {
    pending += data.toString();
    const lines = pending.split('\r\n');
    pending = lines.pop() ?? '';
    // "+1700000000.123456 [0 127.0.0.1:5555] \"SET\" \"key\" ...", or "[0 lua]" for a script's own commands
    for (const line of lines) {
      if (!fromScripts && /^\+\S+ \[\d+ lua\]/.test(line)) continue;
      const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
      if (args.length > 0) commands.push(args);
    }
  });
  socket.write('MONITOR\r\n');
  return { commands, stop: () => void socket.destroy() };
}
