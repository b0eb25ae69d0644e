// The PM2 demo in one command: `npm run demo:pm2`, which builds first (`npx tsx examples/pm2/run.ts` needs the built
// package: `npm run build`). It starts ecosystem.config.js on a private PM2 daemon (PM2_HOME under the OS temp dir;
// ~/.pm2 is never touched), prints who ran each fire for DEMO_SECONDS seconds (default 8), then kills the daemon —
// also when something failed, and on Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StartOptions } from 'pm2';

interface LogPacket {
  data: string;
  process: { name: string; pm_id: number };
}

const SECONDS = Number(process.env.DEMO_SECONDS ?? 8);
const HEARTBEAT = /^heartbeat (\S+) (ran|skipped) on (pm_id \d+)(?: \(([\w-]+)\))?$/;

async function loadEcosystem(): Promise<{ arbiter: StartOptions; app: StartOptions }> {
  let apps: StartOptions[];
  try {
    ({ apps } = (await import(new URL('../../ecosystem.config.js', import.meta.url).href)) as { apps: StartOptions[] });
  } catch (error) {
    console.error(`cannot load ecosystem.config.js (${(error as Error).message.split('\n')[0]}); build the package first: npm run build`);
    process.exit(1);
  }
  const [arbiter, app] = apps;
  if (!arbiter || !app) throw new Error('ecosystem.config.js should declare the arbiter, then the app');
  return { arbiter, app };
}

const { arbiter, app } = await loadEcosystem();
const instances = app.instances ?? 1;

// PM2 reads these when it is loaded, and its daemon and apps inherit them: set them before importing pm2. PM2_HOME is
// short, for the unix sockets PM2 keeps there.
const home = mkdtempSync(join(tmpdir(), 'fc-'));
process.env.PM2_HOME = home;
process.env.PM2_DISABLE_VERSION_CHECK = 'true';
const { default: pm2 } = await import('pm2');

/** One call of PM2's callback API as a promise, which rejects after `timeoutMs`. */
function call<T = unknown>(what: string, run: (callback: (error: Error | null, value?: T) => void) => void, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not answer within ${timeoutMs / 1000} s`)), timeoutMs);
    run((error, value) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve(value as T);
    });
  });
}

console.log(`PM2 demo: ${instances} instances of ${app.name} and ${arbiter.name}, PM2_HOME=${home}\n`);

let stopping: Promise<never> | undefined;
const stop = (code: number) =>
  (stopping ??= (async () => {
    clearInterval(printer);
    print(true);
    console.log('\nstopping: pm2 kill');
    try {
      // Stops every app, then the daemon.
      await call('pm2 kill', (cb) => pm2.killDaemon(cb), 10_000);
      rmSync(home, { recursive: true, force: true });
    } catch (error) {
      console.error(`could not stop the PM2 daemon (${(error as Error).message}); stop it with: PM2_HOME=${home} npx pm2 kill`);
      code = 1;
    }
    // PM2's client would try to reach the dead daemon forever: leave now.
    process.exit(code);
  })());
process.once('SIGINT', () => void stop(0));
process.once('SIGTERM', () => void stop(0));

// The apps' output lines, in arrival order.
const lines: { app: string; pmId: number; text: string }[] = [];
// Per fire, the instance that ran it and those that skipped it, printed once every instance has spoken, or after
// WAIT_MS: an instance that started after the fire never speaks of it, and must not hold back every later one.
const WAIT_MS = 1500;
const fires = new Map<string, { ran: string[]; skipped: string[]; seen: number }>();
let printed = 0;
const printer = setInterval(() => print(false), 100);

function print(flush: boolean): void {
  for (; printed < lines.length; printed++) record(lines[printed]!);
  for (const [slot, fire] of fires) {
    if (!flush && fire.ran.length + fire.skipped.length < instances && Date.now() - fire.seen < WAIT_MS) break;
    fires.delete(slot);
    const ran = fire.ran.length === 0 ? 'nobody' : fire.ran.join(', ');
    console.log(`${slot.slice(11, 19)}  ran on ${ran.padEnd(8)} | skipped on ${fire.skipped.join(', ') || 'none'}`);
  }
}

function record(line: { app: string; pmId: number; text: string }): void {
  const match = HEARTBEAT.exec(line.text);
  if (!match) {
    console.log(`[${line.app} pm_id ${line.pmId}] ${line.text}`);
    return;
  }
  const [, slot = '', outcome, instance = '', reason] = match;
  const fire = fires.get(slot) ?? { ran: [], skipped: [], seen: Date.now() };
  fires.set(slot, fire);
  if (outcome === 'ran') fire.ran.push(instance);
  else fire.skipped.push(`${instance} (${reason})`);
}

async function waitForLine(pattern: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!lines.some((line) => line.text.includes(pattern))) {
    if (Date.now() > deadline) throw new Error(`${what} did not start within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

try {
  await call('pm2 connect', (cb) => pm2.connect(cb));
  const bus = await call<{ on(event: string, listener: (packet: LogPacket) => void): void }>('pm2 bus', (cb) => pm2.launchBus(cb));
  for (const event of ['log:out', 'log:err']) {
    bus.on(event, ({ data, process: { name, pm_id } }) => {
      for (const text of data.split('\n')) if (text !== '') lines.push({ app: name, pmId: pm_id, text });
    });
  }
  // The arbiter first: an instance whose first request finds no arbiter yet skips fires until it asks again.
  await call('pm2 start', (cb) => pm2.start(arbiter, cb));
  await waitForLine('fleetcron-arbiter: serving elections', 15_000, 'the arbiter');
  await call('pm2 start', (cb) => pm2.start(app, cb));
  setTimeout(() => void stop(0), SECONDS * 1000);
} catch (error) {
  console.error(`the demo failed: ${(error as Error).message}`);
  await stop(1);
}
