import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Authority } from '../../src/ipc/authority.js';
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

  send(message: unknown, callback: (error: Error | null) => void): boolean {
    this.sent++;
    callback(null);
    const data = openEnvelope(message);
    if (this.answering && data) void this.authority.handle(data).then((reply) => reply && this.emit('message', envelope(reply)));
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

  it('fails closed when nobody answers, warns once naming the fix, then fails fast until the authority is back', async () => {
    const parent = new FakeParent();
    parent.answering = false;
    const { lines, logger } = recordingLogger();
    const c = client(parent, false, logger);
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(/call serveCluster\(\)/);
    const sentAfterProbe = parent.sent;
    const started = Date.now();
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(/no fleetcron authority is answering/);
    expect(Date.now() - started).toBeLessThan(40); // no full timeout: the circuit is open
    expect(parent.sent).toBe(sentAfterProbe);
    expect(lines.filter((l) => l.startsWith('warn'))).toHaveLength(1);
    expect(lines[0]).toMatch(/call serveCluster\(\)/);

    parent.answering = true;
    await new Promise((r) => setTimeout(r, 110));
    await expect(c.shouldRun(KEY, 30_000)).rejects.toThrow(); // this call re-probes and still fails fast
    await new Promise((r) => setTimeout(r, 20));
    await expect(c.shouldRun(`${KEY}x`, 30_000)).resolves.toBe(true);
    expect(lines.some((l) => l.startsWith('info') && /answering again/.test(l))).toBe(true);
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

  it('stops listening on the channel when nothing is pending', async () => {
    const parent = new FakeParent();
    const { logger } = recordingLogger();
    const c = client(parent, true, logger);
    await c.shouldRun(KEY, 30_000);
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
  it('is sent only for fires the process won and only when the upstream listens for it', async () => {
    const completed: string[] = [];
    for (const upstream of [undefined, { shouldRun: () => true, onComplete: (key: string) => void completed.push(key) }]) {
      const parent = new FakeParent();
      Object.assign(parent, { authority: new Authority({ upstream }) });
      const kinds: string[] = [];
      const send = parent.send.bind(parent);
      parent.send = (message, callback) => (kinds.push(String(openEnvelope(message)?.kind)), send(message, callback));
      const c = client(parent, true, recordingLogger().logger);
      expect(await c.shouldRun(KEY, 30_000)).toBe(true);
      await c.onComplete(KEY);
      await c.onComplete('never-won:2030-01-01T00:00:00.000Z');
      expect(kinds).toEqual(upstream ? ['elect', 'complete'] : ['elect']);
    }
    expect(completed).toEqual([KEY]);
  });
});
