// Triggers and catch-up retries where they could go wrong: a trigger reaching a task it is not for, a subscription
// that loops or is lost, timers that outlive unref() or close(). Fake timers where one process is enough; a real
// fleet is in fleet.test.ts.
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import cron, { MemoryRunCoordinator, serveCluster } from '../../src/index.js';
import { timerQueue } from '../../src/engine/timer-queue.js';
import { Authority, type Peer } from '../../src/ipc/authority.js';
import { AuthorityClient } from '../../src/ipc/client.js';
import { envelope, openEnvelope, type Notice } from '../../src/ipc/protocol.js';
import { recordingLogger } from '../support/quiet-logger.js';

const T0 = Date.parse('2030-06-01T12:00:00.250Z');
const YEARLY = '0 0 1 1 *';

class FlakyBackend extends MemoryRunCoordinator {
  down = false;
  override async claim(...args: Parameters<MemoryRunCoordinator['claim']>) {
    if (this.down) throw new Error('the backend is down');
    return super.claim(...args);
  }
}

describe('triggers and catch-up in one process', () => {
  beforeEach(() => void vi.useFakeTimers({ now: T0 }));
  afterEach(async () => {
    await cron.shutdown(0);
    vi.useRealTimers();
  });

  it("a trigger runs the task of the backend it was asked on, not a same-named task of another backend or a local one", async () => {
    const [a, b] = [new MemoryRunCoordinator(), new MemoryRunCoordinator()];
    const runs: string[] = [];
    const logger = recordingLogger();
    cron.schedule(YEARLY, () => void runs.push('A'), { name: 'report', distributed: true, runCoordinator: a, timezone: 'UTC', logger });
    cron.schedule(YEARLY, () => void runs.push('B'), { name: 'report', distributed: true, runCoordinator: b, timezone: 'UTC', logger });
    cron.schedule(YEARLY, () => void runs.push('local'), { name: 'report', timezone: 'UTC', logger });
    await vi.advanceTimersByTimeAsync(100);
    await a.trigger('report');
    await vi.advanceTimersByTimeAsync(1500);
    expect(runs).toEqual(['A']);
    expect(await b.history('report')).toEqual([]);
  });

  it('noOverlap: a trigger during a run of this process is not started (execution:overlap)', async () => {
    const backend = new MemoryRunCoordinator();
    let running = 0;
    let most = 0;
    const task = cron.schedule('* * * * * *', async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setTimeout(resolve, 5000));
      running--;
    }, { name: 'long', distributed: true, noOverlap: true, runCoordinator: backend, logger: recordingLogger() });
    const overlaps = vi.fn();
    task.on('execution:overlap', overlaps);
    await vi.advanceTimersByTimeAsync(1500);
    await backend.trigger('long');
    await vi.advanceTimersByTimeAsync(1500);
    task.stop();
    await vi.advanceTimersByTimeAsync(6000);
    expect(most).toBe(1);
    expect(overlaps).toHaveBeenCalled();
  });

  it('a trigger asked before the task existed, which its in-memory records cannot vouch for, is not run and not an error', async () => {
    const backend = new MemoryRunCoordinator();
    await backend.trigger('fresh');
    await vi.advanceTimersByTimeAsync(2000);
    const task = cron.schedule(YEARLY, () => {}, { name: 'fresh', distributed: true, runCoordinator: backend, timezone: 'UTC', logger: recordingLogger() });
    const skipped = vi.fn();
    task.on('execution:skipped', skipped);
    await vi.advanceTimersByTimeAsync(1500);
    expect(skipped).not.toHaveBeenCalled();
  });

  it('unref() lets go of an owed catch-up too: nothing in the timer queue holds the process', async () => {
    const backend = new FlakyBackend();
    const task = cron.schedule('*/2 * * * * *', () => {}, { name: 'owed', distributed: true, catchUp: 300_000, runCoordinator: backend, logger: recordingLogger() });
    await vi.advanceTimersByTimeAsync(2000);
    backend.down = true;
    await vi.advanceTimersByTimeAsync(2000);
    task.unref();
    expect((timerQueue as unknown as { refCount: number }).refCount).toBe(0);
  });
});

/** A parent channel whose far end is one or more authorities, each answering every request. */
class FakeParent extends EventEmitter {
  readonly kinds: string[] = [];
  authorities: Authority[];
  readonly peer: Peer = { id: 'child', notify: (notice) => this.emit('message', envelope(notice)) };
  constructor(count = 1) {
    super();
    this.authorities = Array.from({ length: count }, () => new Authority({ triggerPollMs: 20 }));
  }
  send(message: unknown, callback: (error: Error | null) => void): boolean {
    callback(null);
    const data = openEnvelope(message);
    if (!data) return true;
    this.kinds.push(String(data.kind));
    for (const authority of this.authorities) void authority.handle(data, this.peer).then((reply) => reply && setImmediate(() => this.emit('message', envelope(reply))));
    return true;
  }
  close(): void {
    for (const authority of this.authorities) authority.close();
  }
}

const quiet = recordingLogger();
const clientOf = (parent: FakeParent, onNotice?: (notice: Notice) => void) =>
  new AuthorityClient(parent, { verified: true, missing: 'x', logger: quiet, requestTimeoutMs: 200, resubscribeMs: 100, onNotice });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the subscription of a process to its authority', () => {
  it('two authorities answering (a duplicate) do not make the subscription loop: at most one more per resubscribeMs', async () => {
    const parent = new FakeParent(2);
    const client = clientOf(parent);
    client.hearTriggers(true);
    await sleep(300);
    const subscribes = parent.kinds.filter((kind) => kind === 'subscribe').length;
    client.hearTriggers(false);
    await sleep(50);
    parent.close();
    expect(subscribes).toBeGreaterThanOrEqual(1);
    expect(subscribes).toBeLessThanOrEqual(8);
  });

  it('an authority that restarted gets the subscription again, with no other traffic: its triggers are heard', async () => {
    const parent = new FakeParent(1);
    const heard: string[] = [];
    const client = clientOf(parent, (notice) => void heard.push(notice.kind));
    client.hearTriggers(true);
    await sleep(50);
    await parent.authorities[0]!.trigger('job');
    await sleep(60);
    expect(heard).toEqual(['trigger']);
    parent.close();
    parent.authorities = [new Authority({ triggerPollMs: 20 })];
    await sleep(250);
    await parent.authorities[0]!.trigger('job');
    await sleep(100);
    client.hearTriggers(false);
    await sleep(30);
    parent.close();
    expect(heard).toEqual(['trigger', 'trigger']);
    expect(parent.listenerCount('message'), 'no listener once it hears nothing').toBe(0);
  });

  it('hearTriggers(false) with nobody hearing changes nothing; junk and whole-second trigger notices are dropped', async () => {
    const parent = new FakeParent(1);
    const heard: Notice[] = [];
    const client = clientOf(parent, (notice) => void heard.push(notice));
    client.hearTriggers(false);
    client.hearTriggers(true);
    await sleep(30);
    for (const key of ['job', 'job:not-a-date', 42, '', 'job:2030-01-01T00:00:00.000Z']) {
      parent.emit('message', envelope({ proto: 'fleetcron', v: 1, kind: 'trigger', key } as unknown as Notice));
    }
    expect(heard).toEqual([]);
    await parent.authorities[0]!.trigger('job');
    await sleep(60);
    expect(heard.map((notice) => notice.kind)).toEqual(['trigger']);
    client.hearTriggers(false);
    await sleep(30);
    parent.close();
  });

  it('an authority whose upstream is the authority above (a primary under a PM2 arbiter) passes triggers down', async () => {
    const top = new Authority({ triggerPollMs: 20, logger: quiet });
    const parent = new FakeParent(0);
    parent.authorities = [top];
    const middle = new Authority({ upstream: clientOf(parent), triggerPollMs: 20, logger: quiet });
    const heard: string[] = [];
    const worker: Peer = { id: 'worker', notify: (notice) => void heard.push(`${notice.kind} ${notice.key}`) };
    await middle.handle({ proto: 'fleetcron', v: 1, kind: 'subscribe', id: '1', on: true }, worker);
    await sleep(30);
    const slot = await top.trigger('job');
    await sleep(100);
    middle.close();
    await sleep(30);
    await top.trigger('job');
    await sleep(100);
    top.close();
    expect(heard).toEqual([`trigger job:${new Date(slot).toISOString()}`]);
    expect(parent.listenerCount('message'), 'closed, the middle authority hears nothing from above').toBe(0);
  });

  it("serveCluster() closed and served again: the primary's own task hears the new authority's triggers", async () => {
    let handle = serveCluster({ logger: quiet });
    const runs: string[] = [];
    const task = cron.schedule(YEARLY, () => void runs.push('ran'), { name: 'own', distributed: true, timezone: 'UTC', logger: quiet });
    try {
      await sleep(50);
      await handle.authority.trigger('own');
      await sleep(1500);
      expect(runs).toEqual(['ran']);
      handle.close();
      handle = serveCluster({ logger: quiet });
      await handle.authority.trigger('own');
      await sleep(1500);
      expect(runs).toEqual(['ran', 'ran']);
    } finally {
      task.destroy();
      handle.close();
    }
  });
});
