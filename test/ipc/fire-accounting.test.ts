import { describe, expect, it } from 'vitest';
import { Authority, type Peer } from '../../src/ipc/authority.js';
import { PROTOCOL, VERSION, type Notice } from '../../src/ipc/protocol.js';
import type { Logger, RunCoordinator } from '../../src/types.js';

// The host-side accounting of DESIGN §8: a fire granted to one process is followed until it has started, and
// given to another process of the host when its holder cannot run it. Real timers, short waits.

const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const KEY = `job:${new Date(SLOT).toISOString()}`;

function setup(options: { upstream?: RunCoordinator; maxLeaseMs?: number; maxFires?: number } = {}) {
  const errors: string[] = [];
  const infos: string[] = [];
  const logger: Logger = { info: (m) => void infos.push(m), warn() {}, error: (m) => void errors.push(String(m)), debug() {} };
  const authority = new Authority({ ...options, logger, now: () => Date.now() });
  const notices = new Map<string, Notice[]>();
  const peer = (id: string): Peer => ({ id, notify: (notice) => void notices.set(id, [...(notices.get(id) ?? []), notice]) });
  // Fires planned "now": the authority started before them.
  const fire = { key: KEY, ttlMs: 30_000, slot: Date.now() + 1, deadline: Date.now() + 300, waitMs: 200 };
  const elect = (who: Peer, overrides: Partial<typeof fire> = {}) => authority.elect({ ...fire, ...overrides }, who);
  return { authority, errors, infos, notices, peer, elect, fire };
}

describe('host fire accounting', () => {
  it("holds the losers' answers until the winner has started its run", async () => {
    const { authority, peer, elect } = setup();
    const [a, b, c] = [peer('a'), peer('b'), peer('c')];
    expect(await elect(a)).toEqual({ elected: true, fencingToken: 1 });
    let answered = 0;
    const losers = [elect(b), elect(c)].map((p) => p.then((v) => (answered++, v)));
    await new Promise((r) => setTimeout(r, 20));
    expect(answered).toBe(0);
    authority.started(KEY, a);
    expect(await Promise.all(losers)).toEqual([{ elected: false }, { elected: false }]);
  });

  it('hands a fire its holder gives up to the first other process still within its deadline', async () => {
    const { authority, peer, elect, infos } = setup();
    const [a, b, c] = [peer('a'), peer('b'), peer('c')];
    expect(await elect(a)).toEqual({ elected: true, fencingToken: 1 });
    const late = elect(b, { deadline: Date.now() - 1 });
    const inTime = elect(c);
    expect(await authority.release(KEY, 'task job was stopped', a)).toBe(true);
    expect(await inTime).toEqual({ elected: true, fencingToken: 1 });
    expect(await late).toEqual({ elected: false });
    expect(infos.some((line) => line.includes(KEY) && /handed over from a to c/.test(line))).toBe(true);
  });

  it('hands the fire of a holder that exited before running it to another process', async () => {
    const { authority, peer, elect } = setup();
    const [a, b] = [peer('a'), peer('b')];
    expect(await elect(a)).toEqual({ elected: true, fencingToken: 1 });
    const other = elect(b);
    authority.peerGone('a', 'was killed by SIGKILL');
    expect(await other).toEqual({ elected: true, fencingToken: 1 });
  });

  it('hands on a grant that the upstream gave to a holder which died while waiting for it', async () => {
    let decide!: (value: boolean) => void;
    const { authority, peer, elect } = setup({ upstream: { shouldRun: () => new Promise<boolean>((r) => (decide = r)) } });
    const [a, b] = [peer('a'), peer('b')];
    const first = elect(a);
    const other = elect(b);
    await new Promise((r) => setTimeout(r, 5));
    authority.peerGone('a', 'was killed by SIGKILL');
    decide(true);
    await first;
    expect(await other).toEqual({ elected: true });
  });

  it('reports a fire nobody can take: the release says so, the authority logs it once, and the losers hear of it', async () => {
    const { authority, peer, elect, errors, notices } = setup();
    const [a, b] = [peer('a'), peer('b')];
    expect(await elect(a)).toEqual({ elected: true, fencingToken: 1 });
    const loser = elect(b, { waitMs: 0 });
    expect(await loser).toEqual({ elected: false });
    expect(await authority.release(KEY, 'task job was stopped before its run began', a)).toBe(false);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(KEY);
    expect(errors[0]).toMatch(/was not run: task job was stopped/);
    expect(notices.get('b')).toEqual([{ proto: PROTOCOL, v: VERSION, kind: 'lost', key: KEY, cause: 'task job was stopped before its run began' }]);
    expect(notices.has('a')).toBe(false);
  });

  it('lets a late asker of the host take a given-up fire until the holder deadline, then reports it', async () => {
    const { authority, peer, elect, errors } = setup();
    expect(await elect(peer('a'))).toEqual({ elected: true, fencingToken: 1 });
    const released = authority.release(KEY, 'stopped', peer('a'));
    expect(await elect(peer('b'))).toEqual({ elected: true, fencingToken: 1 });
    expect(await released).toBe(true);
    expect(errors).toEqual([]);
  });

  it("reports a run whose holder died while running it, with the losers' notices", async () => {
    const { authority, peer, elect, errors, notices } = setup();
    const [a, b] = [peer('a'), peer('b')];
    expect(await elect(a)).toEqual({ elected: true, fencingToken: 1 });
    const loser = elect(b);
    authority.started(KEY, a);
    expect(await loser).toEqual({ elected: false });
    authority.peerGone('a', 'was killed by SIGKILL');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`the run of fire ${KEY.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was lost: a was killed by SIGKILL`));
    expect(notices.get('b')?.[0]).toMatchObject({ kind: 'lost', cause: expect.stringMatching(/killed by SIGKILL while running it/) });
  });

  it("answers a loser that waits no longer than its wait, while the holder still has not started", async () => {
    const { peer, elect } = setup();
    expect(await elect(peer('a'))).toEqual({ elected: true, fencingToken: 1 });
    const started = Date.now();
    expect(await elect(peer('b'), { waitMs: 30 })).toEqual({ elected: false });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('keeps a fire past its lease while a worker of the host may still ask for it (a lease shorter than the tolerance)', async () => {
    const { peer, elect, authority } = setup();
    const short = { ttlMs: 20, deadline: Date.now() + 400, waitMs: 0 };
    expect(await elect(peer('a'), short)).toEqual({ elected: true, fencingToken: 1 });
    authority.started(KEY, peer('a'));
    await new Promise((r) => setTimeout(r, 60));
    expect(await elect(peer('b'), short)).toEqual({ elected: false });
  });

  it('refuses leases above its maximum and fires past its capacity, with messages that say so', async () => {
    const { elect, peer } = setup({ maxLeaseMs: 60_000, maxFires: 100 });
    expect(await elect(peer('a'), { ttlMs: 60_001 })).toEqual({ error: expect.stringMatching(/lease of 60001 ms; this authority accepts at most 60000 ms \(maxLeaseMs\)/) });
    for (let i = 0; i < 100; i++) await elect(peer('a'), { key: `job${i}:${new Date(SLOT).toISOString()}` });
    expect(await elect(peer('a'), { key: `one-too-many:${new Date(SLOT).toISOString()}` })).toEqual({
      error: expect.stringMatching(/already follows 100 fires \(maxFires 100\)/),
    });
  });

  it('keeps scoped keys apart however scope and task name are split (app billing + reports:daily vs app billing:reports + daily)', async () => {
    const calls: string[] = [];
    const { authority, peer } = setup({ upstream: { shouldRun: (key) => (calls.push(key), true) } });
    const slot = Date.now() + 1;
    const iso = new Date(SLOT).toISOString();
    expect(await authority.elect({ key: `reports:daily:${iso}`, ttlMs: 1000, slot }, peer('a'), 'billing')).toEqual({ elected: true });
    expect(await authority.elect({ key: `daily:${iso}`, ttlMs: 1000, slot }, peer('b'), 'billing:reports')).toEqual({ elected: true });
    expect(new Set(calls).size).toBe(2);
    expect(calls).not.toContain(`billing:reports:daily:${iso}`);
  });
});

describe('upstream outages at the authority', () => {
  it('logs the first failed fire of an outage with its cause, then one line when the upstream answers again, counting the skips', async () => {
    let down = true;
    const { authority, peer, errors, infos } = setup({
      upstream: {
        shouldRun: () => {
          if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
          return true;
        },
      },
    });
    const iso = new Date(SLOT).toISOString();
    for (let i = 0; i < 3; i++) expect(await authority.elect({ key: `job${i}:${iso}`, ttlMs: 1000, slot: Date.now() + 1 }, peer('a'))).toHaveProperty('error');
    down = false;
    expect(await authority.elect({ key: `job9:${iso}`, ttlMs: 1000, slot: Date.now() + 1 }, peer('a'))).toEqual({ elected: true });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(new RegExp(`fire job0:${iso.replace(/\./g, '\\.')} was not run: the upstream coordinator failed: .*ECONNREFUSED`));
    expect(infos.filter((l) => /answers again; 3 fire\(s\) were skipped/.test(l))).toHaveLength(1);
  });
});
