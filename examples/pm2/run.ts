// The PM2 demo in one command: `npm run demo:pm2`, which builds first (`npx tsx examples/pm2/run.ts` needs the built
// package: `npm run build`). It starts ecosystem.config.js on a private PM2 daemon (PM2_HOME under the OS temp dir;
// ~/.pm2 is never touched), prints who ran each fire for DEMO_SECONDS seconds (default 8), then kills the daemon.
// Ctrl-C stops it early.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT, startPm2, type LogLine, type Pm2App } from '../../test/support/pm2.js';

const SECONDS = Number(process.env.DEMO_SECONDS ?? 8);
const HEARTBEAT = /^heartbeat (\S+) (ran|skipped) on (pm_id \d+)(?: \(([\w-]+)\))?$/;

async function loadEcosystem(): Promise<{ arbiter: Pm2App; app: Pm2App }> {
  let apps: Pm2App[];
  try {
    ({ apps } = (await import(pathToFileURL(join(REPO_ROOT, 'ecosystem.config.js')).href)) as { apps: Pm2App[] });
  } catch (error) {
    console.error(`cannot load ecosystem.config.js (${(error as Error).message.split('\n')[0]}); build the package first: npm run build`);
    process.exit(1);
  }
  const [arbiter, app] = apps;
  if (!arbiter || !app) throw new Error('ecosystem.config.js should declare the arbiter, then the app');
  return { arbiter, app };
}

const { arbiter, app } = await loadEcosystem();
const pm2 = await startPm2();
console.log(`PM2 demo: ${app.instances} instances of ${app.name} and ${arbiter.name}, PM2_HOME=${pm2.home}\n`);

let stopping: Promise<void> | undefined;
const stop = () =>
  (stopping ??= (async () => {
    clearInterval(printer);
    print(true);
    console.log('\nstopping: pm2 kill');
    await pm2.teardown();
    process.exit(0);
  })());
process.once('SIGINT', stop);

// Per fire, the instance that ran it and those that skipped it, printed once every instance has spoken.
const fires = new Map<string, { ran: string[]; skipped: string[] }>();
let printed = 0;
const printer = setInterval(() => print(false), 100);

function print(flush: boolean): void {
  for (; printed < pm2.lines.length; printed++) record(pm2.lines[printed]!);
  for (const [slot, fire] of fires) {
    if (!flush && fire.ran.length + fire.skipped.length < (app.instances ?? 1)) break;
    fires.delete(slot);
    const ran = fire.ran.length === 0 ? 'nobody' : fire.ran.join(', ');
    console.log(`${slot.slice(11, 19)}  ran on ${ran.padEnd(8)} | skipped on ${fire.skipped.join(', ') || 'none'}`);
  }
}

function record(line: LogLine): void {
  const match = HEARTBEAT.exec(line.text);
  if (!match) {
    console.log(`[${line.app} pm_id ${line.pmId}] ${line.text}`);
    return;
  }
  const [, slot = '', outcome, instance = '', reason] = match;
  const fire = fires.get(slot) ?? { ran: [], skipped: [] };
  fires.set(slot, fire);
  if (outcome === 'ran') fire.ran.push(instance);
  else fire.skipped.push(`${instance} (${reason})`);
}

try {
  // The arbiter first: an instance whose first request finds no arbiter yet skips fires until it asks again.
  await pm2.start([arbiter]);
  await pm2.waitFor(() => pm2.lines.some((l) => l.text.includes('fleetcron-arbiter: serving elections')), 15_000, 'the arbiter');
  await pm2.start([app]);
  setTimeout(stop, SECONDS * 1000);
} catch (error) {
  console.error(error);
  await stop();
}
