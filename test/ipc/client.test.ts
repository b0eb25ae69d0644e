import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Authority, type Peer } from '../../src/ipc/authority.js';
import { AuthorityClient } from '../../src/ipc/client.js';
import { envelope, openEnvelope } from '../../src/ipc/protocol.js';
import type { Logger } from '../../src/types.js';

const KEY = `job:${new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, '.000Z')}`;

function recordingLogger() {
  const lines: string[] = [];
  const logger: Logger = { info: (m) => void lines.push(`info ${m}`), warn: (m) => void lines.push(`warn ${m}`), error: (m) => void lines.push(`error ${String(m)}`), debug() {} };
  return { lines, logger };
}

/** A parent channel whose far end is an Authority (or nobody, while `answering` is false). */
class FakeParent extends EventEmitter {
  answering = true;
  sent = 0;
  readonly authority = new Authority({});
  readonly peer: Peer = { id: 'child', notify: (notice) => this.emit('message', envelope(notice)) };

  send(message: unknown, callback: (error: Error | null) => void): boolean {
    this.sent++;
    callback(null);
    const data = openEnvelope(message);
    if (this.answering && data) void this.authority.handle(data, this.peer).then((reply) => reply && this.emit('message', envelope(reply)));
    return true;
  }
}

const client = (parent: FakeParent, verified: boolean, logger: Logger, warnAfterMs = 0) =>
  new AuthorityClient(parent, { verified, missing: 'call serveCluster()', logger, requestTimeoutMs: 50, probeTimeoutMs: 50, reprobeMs: 100, warnAfterMs });

describe('AuthorityClient', () => {
  it('is elected once per fire by the authority at the other end', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    const a = client(parent, true, logger);
    const b = client(parent, true, logger);
    const answers = await Promise.all([a.shouldRun(KEY, 30_000), b.shouldRun(KEY, 30_000)]);
    expect(answers.sort()).toEqual([false, true]);
  });

  it('sends no election to an unverified parent before it answers a hello', async () => {
    const parent = new FakeParent();
    const seen: string[] = [];
    const send = parent.send.bind(parent);
    parent.send = (message, callback) => (seen.push(String(openEnvelope(message)?.kind)), send(message, callback));
    const { logger } = recordingLogger();
    await expect(client(parent, false, logger).shouldRun(KEY, 30_000)).resolves.toBe(true);
    expect(seen).toEqual(['hello', 'elect']);
  });

  it('fails closed when nobody answers, warns once naming the fix, and asks again on a timer until it answers', async () => {
    const parent = new FakeParent();
    parent.answering = false;
    const { lines, logger } = recordingLogger();
    const c = client(parent, false, logger);
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(/call serveCluster\(\)/);
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(/no fleetcron authority is answering/);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(lines[0]).toMatch(/call serveCluster\(\)/);
    const sent = parent.sent;
    await new Promise((r) => setTimeout(r, 400));
    expect(parent.sent).toBeGreaterThan(sent); // hellos on the timer, without any fire asking

    parent.answering = true;
    await new Promise((r) => setTimeout(r, 250));
    const kinds: string[] = [];
    const send = parent.send.bind(parent);
    parent.send = (message, callback) => (kinds.push(String(openEnvelope(message)?.kind)), send(message, callback));
    await expect(c.shouldRun(`${KEY}x`, 30_000)).resolves.toBe(true);
    expect(kinds).toEqual(['elect']); // the timer's hello found it: the first fire after its return is elected at once
    expect(lines.some((l) => l.startsWith('info') && /answering again/.test(l))).toBe(true);
  });

  it('lets a fire wait for the check in flight when the authority comes back while it waits', async () => {
    const parent = new FakeParent();
    parent.answering = false;
    const { logger } = recordingLogger();
    const c = client(parent, false, logger);
    const waiting = new AbortController();
    const fire = c.shouldRun(KEY, 30_000, { signal: waiting.signal });
    setTimeout(() => (parent.answering = true), 70);
    await expect(fire).resolves.toBe(true);
    waiting.abort();
  });

  it('gives back a win that arrives after the task stopped waiting, and keeps nothing for it', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    // The late wins must still find their requests pending (the request timeout is the client's own, long, bound).
    const c = new AuthorityClient(parent, { verified: true, missing: '', logger, requestTimeoutMs: 10_000 });
    const kinds: string[] = [];
    const send = parent.send.bind(parent);
    const held: Array<() => void> = [];
    parent.send = (message, callback) => {
      kinds.push(String(openEnvelope(message)?.kind));
      if (openEnvelope(message)?.kind === 'elect') held.push(() => send(message, callback));
      else send(message, callback);
      return true;
    };
    for (let i = 0; i < 20; i++) {
      const gaveUp = new AbortController();
      const fire = c.shouldRun(`job${i}:2030-01-01T00:00:00.000Z`, 30_000, { signal: gaveUp.signal });
      await new Promise((r) => setImmediate(r));
      gaveUp.abort();
      await expect(fire).rejects.toThrow(/stopped waiting/);
    }
    for (const deliver of held) deliver();
    await new Promise((r) => setTimeout(r, 20));
    expect(kinds.filter((k) => k === 'release')).toHaveLength(20);
    expect(c.open).toBe(0);
  });

  it('reports a lost fire it was told it had not won, while it still watches it', async () => {
    const parent = new FakeParent();
    const lost: string[] = [];
    const c = new AuthorityClient(parent, { verified: true, missing: '', logger: recordingLogger().logger, onNotice: (notice) => void lost.push(`${notice.key} ${'cause' in notice ? notice.cause : notice.kind}`) });
    const other: Peer = { id: 'other' };
    expect(await parent.authority.elect({ key: KEY, ttlMs: 30_000 }, other)).toEqual({ elected: true, fencingToken: 1 });
    expect(await c.shouldRun(KEY, 30_000, { watchUntil: Date.now() + 1000 })).toBe(false);
    expect(await c.shouldRun(`${KEY}-unwatched`, 30_000)).toBe(true);
    expect(await parent.authority.release(KEY, 'stopped before its run began', other)).toBe(false);
    expect(lost).toEqual([`${KEY} stopped before its run began`]);
  });

  it('ignores replies that match no pending request (stale, duplicate, foreign)', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    const c = client(parent, true, logger);
    parent.emit('message', envelope({ proto: 'fleetcron', v: 1, kind: 'reply', id: 'someone-else', ok: true, elected: true, authority: { id: 'x', pid: 1 } }));
    parent.emit('message', { type: 'process:msg', data: 'not ours' });
    parent.emit('message', 'ready');
    await expect(c.shouldRun(KEY, 30_000)).resolves.toBe(true);
  });

  it('rejects every pending and later request once the channel disconnects', async () => {
    const parent = new FakeParent();
    parent.answering = false;
    const { logger } = recordingLogger();
    const c = client(parent, true, logger);
    const pending = c.shouldRun(KEY, 30_000);
    parent.emit('disconnect');
    await expect(pending).rejects.toThrow(/closed/);
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(/closed/);
  });

  it('turns a failed send into a rejection instead of a crash', async () => {
    const parent = new FakeParent();
    parent.send = (_message, callback) => (callback(new Error('channel closed')), false);
    const { logger } = recordingLogger();
    await expect(client(parent, true, logger).shouldRun(KEY, 30_000)).rejects.toThrow(/unreachable: channel closed/);
  });

  it('listens on the channel only while a request is pending or a won fire is not ended', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    const c = client(parent, true, logger);
    expect(await c.shouldRun(KEY, 30_000)).toBe(true);
    expect(parent.listenerCount('message'), 'its claim may be revoked while it runs').toBe(1);
    await c.onComplete(KEY);
    expect(parent.listenerCount('message')).toBe(0);
  });

  it('waits warnAfterMs before warning, so an authority still starting up is not reported missing', async () => {
    const parent = new FakeParent();
    parent.answering = false;
    const { lines, logger } = recordingLogger();
    const c = client(parent, false, logger, 10_000);
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow();
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow();
    expect(lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('keeps the circuit closed when a reply was lost but later requests are answered (an arbiter restart)', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    const c = client(parent, true, logger);
    let drop = true;
    const send = parent.send.bind(parent);
    parent.send = (message, callback) => (drop ? ((drop = false), callback(null), true) : send(message, callback));
    const lost = c.shouldRun(KEY, 30_000);
    await expect(c.shouldRun(`${KEY}2`, 30_000)).resolves.toBe(true);
    await expect(lost).rejects.toThrow(/did not answer/);
    await expect(c.shouldRun(`${KEY}3`, 30_000)).resolves.toBe(true);
  });
});

describe('completion over IPC', () => {
  it('is sent for every fire the process won, and only for those', async () => {
    const completed: string[] = [];
    for (const upstream of [undefined, { shouldRun: () => true, onComplete: (key: string) => void completed.push(key) }]) {
      const parent = new FakeParent();
      Object.assign(parent, { authority: new Authority({ upstream }) });
      const kinds: string[] = [];
      const send = parent.send.bind(parent);
      parent.send = (message, callback) => (kinds.push(String(openEnvelope(message)?.kind)), send(message, callback));
      const c = client(parent, true, recordingLogger().logger);
      expect(await c.shouldRun(KEY, 30_000)).toBe(true);
      c.started(KEY);
      await c.onComplete(KEY);
      await c.onComplete('never-won:2030-01-01T00:00:00.000Z');
      c.started('never-won:2030-01-01T00:00:00.000Z');
      expect(kinds).toEqual(['elect', 'started', 'complete']);
      expect(c.open).toBe(0);
    }
    expect(completed).toEqual([KEY]);
  });
});
