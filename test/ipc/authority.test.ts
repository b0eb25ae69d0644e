import { describe, expect, it } from 'vitest';
import { MemoryRunCoordinator } from '../../src/coordination/memory.js';
import { Authority, type Peer } from '../../src/ipc/authority.js';
import { PROTOCOL, VERSION } from '../../src/ipc/protocol.js';
import type { RunCoordinator } from '../../src/types.js';

const peer = (id: string): Peer => ({ id });

const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const KEY = `job:${new Date(SLOT).toISOString()}`;
const elect = (id: string, key = KEY, ttlMs = 30_000) => ({ proto: PROTOCOL, v: VERSION, kind: 'elect', id, key, ttlMs, slot: SLOT });

function countingUpstream(answer: () => boolean | Promise<boolean>): RunCoordinator & { calls: string[] } {
  const calls: string[] = [];
  return { calls, shouldRun: (key) => (calls.push(key), answer()) };
}

describe('Authority', () => {
  it('elects exactly one of many concurrent requests for a fire, and asks upstream once', async () => {
    const upstream = countingUpstream(() => new Promise((r) => setTimeout(() => r(true), 5)));
    const authority = new Authority({ upstream });
    const replies = await Promise.all(['a', 'b', 'c', 'd'].map((id) => authority.handle(elect(id), peer(id))));
    expect(replies.filter((r) => r?.elected === true)).toHaveLength(1);
    expect(replies.every((r) => r?.ok)).toBe(true);
    expect(upstream.calls).toEqual([KEY]);
  });

  it('keeps the claim after the run: a late request for the same fire loses', async () => {
    const authority = new Authority({ now: () => SLOT - 1000 });
    expect((await authority.handle(elect('a'), peer('a')))?.elected).toBe(true);
    expect((await authority.handle(elect('late'), peer('late')))?.elected).toBe(false);
  });

  it('tells every requester coordinator-error when the upstream fails, and nobody runs', async () => {
    const upstream = countingUpstream(() => {
      throw new Error('redis down');
    });
    const authority = new Authority({ upstream });
    const replies = await Promise.all(['a', 'b'].map((id) => authority.handle(elect(id), peer(id))));
    for (const reply of replies) {
      expect(reply?.ok).toBe(false);
      expect(reply?.error?.code).toBe('coordinator-error');
    }
    expect(upstream.calls).toHaveLength(1);
  });

  it('bounds a hung upstream by its election timeout', async () => {
    const authority = new Authority({ upstream: { shouldRun: () => new Promise<boolean>(() => undefined) }, electionTimeoutMs: 50 });
    const reply = await authority.handle(elect('a'), peer('a'));
    expect(reply?.error?.code).toBe('coordinator-error');
  });

  it('scopes claims (PM2 app names): two apps never elect for each other', async () => {
    const upstream = countingUpstream(() => true);
    const authority = new Authority({ upstream });
    expect((await authority.handle(elect('a'), peer('a'), 'app-one'))?.elected).toBe(true);
    expect((await authority.handle(elect('b'), peer('b'), 'app-two'))?.elected).toBe(true);
    expect((await authority.handle(elect('c'), peer('c'), 'app-two'))?.elected).toBe(false);
    expect(upstream.calls).toEqual([`app-one\u001f${KEY}`, `app-two\u001f${KEY}`]);
  });

  it('after a restart without shared upstream state, refuses fires planned before it started', async () => {
    const authority = new Authority({ now: () => SLOT + 200 });
    const reply = await authority.handle(elect('a'), peer('a'));
    expect(reply?.ok).toBe(false);
    expect(reply?.error?.message).toMatch(/planned before this authority started/);
    const next = `job:${new Date(SLOT + 1000).toISOString()}`;
    expect((await authority.handle({ ...elect('b', next), slot: SLOT + 1000 }, peer('b')))?.elected).toBe(true);
  });

  it('forwards fires planned before it started when the upstream is shared (it remembers)', async () => {
    const upstream = countingUpstream(() => true);
    const authority = new Authority({ upstream, now: () => SLOT + 200 });
    expect((await authority.handle(elect('a'), peer('a')))?.elected).toBe(true);
    const memory = new Authority({ upstream: new MemoryRunCoordinator(), now: () => SLOT + 200 });
    expect((await memory.handle(elect('a'), peer('a')))?.ok).toBe(false);
  });

  it('answers an unknown version at once with unsupported-version', async () => {
    const authority = new Authority({});
    const reply = await authority.handle({ ...elect('a'), v: 99 }, peer('a'));
    expect(reply).toMatchObject({ ok: false, id: 'a', error: { code: 'unsupported-version' } });
  });

  it('answers malformed and oversized requests with bad-request, and drops what it cannot answer', async () => {
    const authority = new Authority({});
    expect(await authority.handle({ ...elect('a'), key: 42 }, peer('a'))).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await authority.handle({ ...elect('b'), ttlMs: -5 }, peer('b'))).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await authority.handle({ ...elect('c'), key: 'x'.repeat(5000) }, peer('c'))).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await authority.handle({ ...elect('d'), kind: 'reboot' }, peer('d'))).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'elect' }, peer('x'))).toBeUndefined();
    expect(await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'subscribe', id: 's', on: 'yes' }, peer('s'))).toMatchObject({
      ok: false,
      error: { code: 'bad-request', message: 'on must be a boolean' },
    });
  });

  it('tells each subscribed process of its scope about a trigger, once; not one that unsubscribed or is gone', async () => {
    const authority = new Authority({ triggerPollMs: 20 });
    const heard = new Map<string, string[]>();
    const listener = (id: string): Peer => ({ id, notify: (notice) => void heard.set(id, [...(heard.get(id) ?? []), `${notice.kind} ${notice.key}`]) });
    const [a, b, c, other] = [listener('a'), listener('b'), listener('c'), listener('other-app')];
    for (const p of [a, b, c]) expect(await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'subscribe', id: p.id, on: true }, p)).toMatchObject({ ok: true });
    await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'subscribe', id: 'o', on: true }, other, 'billing');
    await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'subscribe', id: 'b2', on: false }, b);
    authority.peerGone('c', 'exited with code 0');
    const slot = await authority.trigger('report');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const key = `report:${new Date(slot).toISOString()}`;
    expect(Object.fromEntries(heard)).toEqual({ a: [`trigger ${key}`] });
    const scoped = await authority.trigger('report', 'billing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.get('other-app')).toEqual([`trigger report:${new Date(scoped).toISOString()}`]);
    expect(heard.get('a')).toHaveLength(1);
    authority.close();
    await authority.trigger('report');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(heard.get('a'), 'a closed authority polls no more').toHaveLength(1);
  });

  it('passes completion upstream once per request', async () => {
    const completed: string[] = [];
    const authority = new Authority({ upstream: { shouldRun: () => true, onComplete: (key) => void completed.push(key) } });
    await authority.handle({ proto: PROTOCOL, v: VERSION, kind: 'complete', id: 'a', key: KEY }, peer('a'));
    expect(completed).toEqual([KEY]);
  });
});
