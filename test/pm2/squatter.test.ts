import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startPm2, type Pm2Harness } from '../support/pm2.js';
import { arbiterApp, arbiterServing, demoApp, demoFires, demoLines, logText } from './helpers.js';

const INSTANCES = 2;

let pm2: Pm2Harness;
let squatter: Server | undefined;

/**
 * What any local user can bind without access to PM2_HOME: an abstract socket named, as the lock on Linux was,
 * after what `stat PM2_HOME` tells everyone (its device and inode).
 */
function squat(home: string): Promise<Server> {
  const { dev, ino } = statSync(home, { bigint: true });
  const name = `\0fleetcron-arbiter-${createHash('sha256').update(`${dev}:${ino}`).digest('hex').slice(0, 24)}`;
  const server = createServer((socket) => socket.end(JSON.stringify({ pid: 1 })));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(name, () => resolve(server));
  });
}

beforeAll(async () => {
  pm2 = await startPm2();
  if (process.platform === 'linux') squatter = await squat(pm2.home);
  await pm2.start([arbiterApp()]);
}, 30_000);

afterAll(async () => {
  await new Promise((resolve) => (squatter ? squatter.close(resolve) : resolve(undefined)));
  await pm2?.teardown();
}, 30_000);

describe('PM2: a local process squatting the name of the old one-arbiter lock', () => {
  it.runIf(process.platform === 'linux')('does not keep the arbiter from serving', async () => {
    onTestFailed(() => console.log(logText(pm2)));
    await arbiterServing(pm2);
    await pm2.start([demoApp(INSTANCES)]);
    const { settled, elected } = demoFires(demoLines(pm2), INSTANCES);
    const run = await pm2.waitFor(() => {
      const fires = settled();
      return fires.length >= 3 && fires;
    }, 25_000, '3 settled fires');
    expect(run.filter((f) => !elected(f))).toEqual([]);
  }, 60_000);
});
