import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closeSocket } from '../../src/pm2/connection.js';
import type { Pm2Api, Pm2Bus, Pm2Constructor } from '../../src/pm2/pm2-api.js';
import { isAlive } from './processes.js';

const require = createRequire(import.meta.url);

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The part of a PM2 app declaration the tests use. */
export interface Pm2App {
  name: string;
  script: string;
  exec_mode?: 'fork' | 'cluster';
  instances?: number;
  node_args?: string[];
  cwd?: string;
  env?: Record<string, string>;
  autorestart?: boolean;
}

export interface Pm2Process {
  pm_id: number;
  name: string;
  pid: number;
  status: string;
  restarts: number;
}

/** A bus packet: `data` for messages and log lines, `process` naming the PM2 process it came from. */
export interface BusPacket {
  at?: number;
  data?: unknown;
  raw?: unknown;
  process?: { pm_id: number | string; name: string; namespace?: string };
}

export interface BusEvent {
  event: string;
  packet: BusPacket;
}

export interface LogLine {
  /** The pm_id, or `_old_<pm_id>` for a process that `pm2 reload` is replacing. */
  pmId: number | string;
  app: string;
  /** The PM2 namespace of the app ('default' unless it was started in another). */
  namespace: string;
  stream: 'out' | 'err';
  text: string;
}

interface HarnessApi extends Pm2Api {
  start(config: { apps: Pm2App[] }, callback: (error: Error | null) => void): void;
  start(script: string, options: ScriptOptions, callback: (error: Error | null) => void): void;
  restart(name: string, callback: (error: Error | null) => void): void;
  reload(name: string, callback: (error: Error | null) => void): void;
  delete(name: string, callback: (error: Error | null) => void): void;
  killDaemon(callback: (error: Error | null) => void): void;
  list(callback: (error: Error | null, list: RawProcess[]) => void): void;
}

/** The options of `pm2 start <script>`, in the spelling PM2's API takes them. */
interface ScriptOptions {
  name: string;
  namespace: string;
  cwd?: string;
  nodeArgs?: string[];
  execMode?: 'fork' | 'cluster';
  instances?: number;
  force: true;
}

interface RawProcess {
  pm_id: number;
  name: string;
  pid: number;
  pm2_env?: { status?: string; restart_time?: number };
}

interface SubEmitter extends Pm2Bus {
  on(event: '*', listener: (event: string, packet: BusPacket) => void): unknown;
}

/** A private PM2 daemon for one test file. */
export interface Pm2Harness {
  readonly home: string;
  /** Every bus event since connecting, in arrival order (logs included). */
  readonly events: BusEvent[];
  /** The apps' stdout/stderr, one entry per line. */
  readonly lines: LogLine[];
  start(apps: Pm2App[]): Promise<void>;
  /**
   * Starts `app` (its script, name, cwd, node_args, exec_mode and instances) in `namespace`, as `pm2 start <script>
   * --name <name> --namespace <namespace> -f` does. Unlike start(), which restarts a running app of the same name,
   * this starts it beside one in another namespace.
   */
  startInNamespace(app: Pm2App, namespace: string): Promise<void>;
  restart(name: string): Promise<void>;
  /** PM2's zero-downtime reload: each instance is replaced by a new process under the same pm_id, one at a time. */
  reload(name: string): Promise<void>;
  list(): Promise<Pm2Process[]>;
  send(pmId: number, packet: object): Promise<void>;
  /** Polls `probe` until it returns something other than undefined/false; throws naming `what` after `timeoutMs`. */
  waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T>;
  /** The God daemon's pid, from `<home>/pm2.pid`. */
  godPid(): number | undefined;
  /** Deletes the apps, kills the daemon, closes every socket, kills leftovers by pid, removes the home. Idempotent. */
  teardown(): Promise<void>;
}

const UNIX_SOCKET_PATH_MAX = 107;

/**
 * Starts a PM2 daemon in a fresh, short PM2_HOME under the OS temp dir. Never touches ~/.pm2 and never kills a
 * process it did not start: leftovers are killed by pid only when they carry this PM2_HOME.
 */
export async function startPm2(options: { connectTimeoutMs?: number } = {}): Promise<Pm2Harness> {
  const home = mkdtempSync(join(tmpdir(), 'fc-'));
  if (Buffer.byteLength(join(home, 'interactor.sock')) > UNIX_SOCKET_PATH_MAX) {
    rmSync(home, { recursive: true, force: true });
    throw new Error(`PM2_HOME ${home} is too long for a unix socket path; set TMPDIR to a shorter directory`);
  }
  // PM2 reads these when loaded, and its daemon and apps inherit them.
  process.env.PM2_HOME = home;
  process.env.PM2_DISABLE_VERSION_CHECK = 'true';
  const Pm2 = (require('pm2') as { custom: Pm2Constructor }).custom;
  const api = new Pm2({ pm2_home: home }) as HarnessApi;
  const events: BusEvent[] = [];
  const lines: LogLine[] = [];
  const call = <T = void>(what: string, timeoutMs: number, run: (callback: (error: Error | null, value?: T) => void) => void) =>
    bounded(new Promise<T>((ok, fail) => run((error, value) => (error ? fail(error) : ok(value as T)))), timeoutMs, what);

  let teardown: Promise<void> | undefined;
  const harness: Pm2Harness = {
    home,
    events,
    lines,
    start: (apps) => call('pm2.start', 20_000, (cb) => api.start({ apps }, cb)),
    startInNamespace: ({ script, name, cwd, node_args, exec_mode, instances }, namespace) =>
      call(`pm2.start(${namespace}/${name})`, 20_000, (cb) =>
        api.start(script, { name, namespace, cwd, nodeArgs: node_args, execMode: exec_mode, instances, force: true }, cb),
      ),
    restart: (name) => call(`pm2.restart(${name})`, 20_000, (cb) => api.restart(name, cb)),
    reload: (name) => call(`pm2.reload(${name})`, 30_000, (cb) => api.reload(name, cb)),
    async list() {
      const raw = await call<RawProcess[]>('pm2.list', 5000, (cb) => api.list(cb));
      return raw.map((p) => ({ pm_id: p.pm_id, name: p.name, pid: p.pid, status: p.pm2_env?.status ?? 'unknown', restarts: p.pm2_env?.restart_time ?? 0 }));
    },
    send: (pmId, packet) => call('pm2.sendDataToProcessId', 5000, (cb) => api.sendDataToProcessId(pmId, packet, cb)),
    waitFor,
    godPid: () => readPid(join(home, 'pm2.pid')),
    teardown: () => (teardown ??= destroy(api, harness, call)),
  };

  try {
    await call('pm2.connect', options.connectTimeoutMs ?? 10_000, (cb) => api.connect(cb));
    const bus = await call<SubEmitter>('pm2.launchBus', 5000, (cb) => api.launchBus(cb as (error: Error | null, bus: Pm2Bus) => void));
    bus.on('*', (event, packet) => {
      events.push({ event, packet });
      const stream = event === 'log:out' ? 'out' : event === 'log:err' ? 'err' : undefined;
      if (!stream || typeof packet.data !== 'string' || !packet.process) return;
      for (const text of packet.data.split('\n')) {
        if (text !== '') lines.push({ pmId: packet.process.pm_id, app: packet.process.name, namespace: packet.process.namespace ?? 'default', stream, text });
      }
    });
  } catch (error) {
    await harness.teardown();
    throw error;
  }
  return harness;
}

type Call = <T = void>(what: string, timeoutMs: number, run: (callback: (error: Error | null, value?: T) => void) => void) => Promise<T>;

async function destroy(api: HarnessApi, harness: Pm2Harness, call: Call): Promise<void> {
  const { home } = harness;
  const god = harness.godPid();
  const apps = god !== undefined && isOurs(god, home) ? await harness.list().then((list) => list.map((p) => p.pid), () => []) : [];
  if (god !== undefined && isOurs(god, home)) {
    await call('pm2.delete(all)', 10_000, (cb) => api.delete('all', cb)).catch(() => undefined);
    await call('pm2.killDaemon', 10_000, (cb) => api.killDaemon(cb)).catch(() => undefined);
  }
  // After the daemon is gone, PM2's client sockets would try to reconnect forever and keep this process alive.
  await Promise.all([closeSocket(api.Client.client_sock), closeSocket(api.Client.sub_sock)]);
  for (const pid of [god, ...apps]) {
    if (pid !== undefined && pid > 0 && isOurs(pid, home)) await killAndWait(pid);
  }
  rmSync(home, { recursive: true, force: true });
}

/** Whether `pid` is alive and was started under this PM2_HOME (guards against a reused pid). */
function isOurs(pid: number, home: string): boolean {
  if (!isAlive(pid)) return false;
  if (process.platform !== 'linux') return true;
  for (const file of ['cmdline', 'environ']) {
    try {
      if (readFileSync(`/proc/${pid}/${file}`, 'utf8').includes(home)) return true;
    } catch {
      // Gone meanwhile, or not readable.
    }
  }
  return false;
}

async function killAndWait(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  await waitFor(() => !isAlive(pid), 5000, `process ${pid} to exit after SIGKILL`).catch(() => undefined);
}

export function readPid(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

export async function waitFor<T>(probe: () => T | undefined | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 25));
  }
}

function bounded<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} did not finish within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
