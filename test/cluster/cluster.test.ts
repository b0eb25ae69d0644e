import { afterEach, describe, expect, it } from 'vitest';
import { Fixture, isAlive, runsPerSlot } from '../support/processes.js';
import { monitorCommands, requireRedis, startRedisServer } from '../support/redis-server.js';

const redisUp = await requireRedis();

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

function host(env: NodeJS.ProcessEnv): Fixture {
  const fixture = new Fixture('cluster-host.ts', env);
  fixtures.push(fixture);
  return fixture;
}

describe('node:cluster: serveCluster() elects once per fire for the whole host', () => {
  it('runs each fire of 4 workers exactly once, the others told not-elected', async () => {
    const primary = host({ WORKERS: '4' });
    await primary.until((r) => new Set(r.filter((x) => x.type === 'run').map((x) => x.slot)).size >= 11, 25_000, '11 fires');
    const counts = runsPerSlot(primary.reports);
    const slots = [...counts.keys()].sort();
    expect(slots.length).toBeGreaterThanOrEqual(11);
    for (const slot of slots) expect(counts.get(slot), slot).toBe(1);
    const skipped = primary.of('skip').filter((s) => slots.includes(s.slot as string));
    expect(skipped.every((s) => s.reason === 'not-elected')).toBe(true);
    // With four workers up, every fire was decided for all of them: one run plus three not-elected (the newest fire
    // is left out: its skips may still be on their way).
    const lastSlots = slots.slice(-6, -1);
    for (const slot of lastSlots) expect(skipped.filter((s) => s.slot === slot)).toHaveLength(3);
    // Each run got the fencing token of its fire, growing fire after fire.
    const tokens = primary.of('run').sort((x, y) => String(x.slot).localeCompare(String(y.slot))).map((x) => x.token as number);
    expect(tokens).toEqual(tokens.map((_, i) => tokens[0]! + i));
  });

  it("keeps the host's records in memory: one per fire, with its holder, outcome and token", async () => {
    const primary = host({ WORKERS: '3' });
    await primary.until((r) => r.filter((x) => x.type === 'done').length >= 5, 25_000, '5 finished runs');
    const done = new Set(primary.of('done').map((x) => x.slot as string));
    await primary.until((r) => {
      const last = r.filter((x) => x.type === 'history').at(-1);
      return last !== undefined && [...done].every((slot) => (last.records as Array<{ slot: number; state: string }>).some((rec) => new Date(rec.slot).toISOString() === slot && rec.state === 'succeeded'));
    }, 5000, 'the finished runs in the history');
    const records = primary.of('history').at(-1)!.records as Array<{ slot: number; state: string; holder: { pid: number }; fencingToken: number; durationMs?: number }>;
    const runs = new Map(primary.of('run').map((x) => [x.slot as string, x]));
    expect(records.map((r) => r.slot)).toEqual([...records.map((r) => r.slot)].sort((a, b) => b - a));
    for (const record of records.filter((r) => done.has(new Date(r.slot).toISOString()))) {
      const run = runs.get(new Date(record.slot).toISOString())!;
      expect(record.holder.pid, 'the worker that ran it').toBe(run.pid);
      expect(record.fencingToken).toBe(run.token);
      expect(record.durationMs).toBeGreaterThanOrEqual(40);
    }
  });

  it('survives a worker killed with SIGKILL mid-run: the replacement joins and no fire runs twice', async () => {
    const primary = host({ WORKERS: '4', RUN_MS: '400' });
    await primary.until((r) => r.filter((x) => x.type === 'run').length >= 3, 20_000, '3 runs');
    // Kill the worker that is running right now (it reported `run` and not yet `done`).
    await primary.until((r) => {
      const last = r.filter((x) => x.type === 'run').at(-1)!;
      return !r.some((x) => x.type === 'done' && x.slot === last.slot);
    }, 5000, 'a run in progress');
    const victim = primary.of('run').at(-1)!;
    process.kill(victim.pid as number, 'SIGKILL');
    await primary.until((r) => r.some((x) => x.type === 'worker-exit' && x.pid === victim.pid), 5000, 'the worker exit');
    const killedAt = primary.reports.length;
    await primary.until((r) => r.filter((x) => x.type === 'online').length >= 5, 10_000, 'the replacement worker');
    const replacement = primary.of('online').at(-1)!.pid;
    await primary.until(
      (r) => r.slice(killedAt).some((x) => (x.type === 'run' || x.type === 'skip') && x.pid === replacement),
      10_000,
      'the replacement taking part in elections',
    );
    await primary.until((r) => r.slice(killedAt).filter((x) => x.type === 'run').length >= 5, 15_000, '5 runs after the kill');

    expect(isAlive(primary.pid)).toBe(true);
    const exit = primary.of('worker-exit').find((x) => x.pid === victim.pid)!;
    expect(exit.signal).toBe('SIGKILL');
    for (const [slot, n] of runsPerSlot(primary.reports)) expect(n, slot).toBe(1);
    // The killed run never finished, and nobody ran its fire again.
    expect(primary.reports.some((x) => x.type === 'done' && x.slot === victim.slot)).toBe(false);
    // Its record says so: lost, with the worker that held it.
    await primary.until((r) => r.filter((x) => x.type === 'history').length > 0, 5000, 'a history report');
    const records = primary.of('history').at(-1)!.records as Array<{ slot: number; state: string; holder: { pid: number }; error?: { message: string } }>;
    const killed = records.find((rec) => new Date(rec.slot).toISOString() === victim.slot)!;
    expect(killed).toMatchObject({ state: 'lost', holder: { pid: victim.pid } });
    expect(killed.error!.message).toMatch(/exited|SIGKILL/);
  });
});

describe('protocol hardening on the node:cluster channel', () => {
  it('ignores or answers junk, crashes no process, and keeps electing once per fire', async () => {
    const primary = host({ WORKERS: '4', HOSTILE: '1' });
    await primary.until((r) => r.filter((x) => x.type === 'run').length >= 6 && r.some((x) => x.type === 'junk-reply'), 20_000, '6 runs under junk');
    expect(isAlive(primary.pid)).toBe(true);
    expect(primary.of('worker-exit')).toEqual([]);
    const replies = primary.of('junk-reply');
    expect(replies.find((r) => r.id === 'v99')).toMatchObject({ ok: false, code: 'unsupported-version' });
    expect(replies.find((r) => r.id === 'bad')).toMatchObject({ ok: false, code: 'bad-request' });
    expect(replies.find((r) => r.id === 'big')).toMatchObject({ ok: false, code: 'bad-request' });
    for (const [slot, n] of runsPerSlot(primary.reports)) expect(n, slot).toBe(1);
  });
});

describe.skipIf(!redisUp)('two hosts, each a primary with 3 workers, with Redis upstream', () => {
  it('runs each fire exactly once across both hosts, and Redis sees one claim attempt per fire per host', async () => {
    const redis = await startRedisServer();
    const monitor = await monitorCommands(redis.port, { fromScripts: false });
    try {
      const env = { WORKERS: '3', REDIS_URL: redis.url, REDIS_PREFIX: 'two-hosts:' };
      const hosts = [host({ ...env, HOST_NAME: 'a' }), host({ ...env, HOST_NAME: 'b' })];
      const slotsOf = (f: Fixture) => new Set(f.reports.filter((r) => r.type === 'run' || r.type === 'skip').map((r) => r.slot as string));
      const both = () => [...slotsOf(hosts[0]!)].filter((slot) => slotsOf(hosts[1]!).has(slot)).sort();
      await hosts[0]!.until(() => both().length >= 11, 30_000, '11 fires decided on both hosts');
      const slots = both().slice(0, -1);
      const reports = hosts.flatMap((h) => h.reports);
      // A claim is one call of the records script (EVALSHA sha numkeys keys... perTask maxAgeMs, then 7 arguments per
      // fire ending with its claim id; or EVAL after a NOSCRIPT, with the same claim id): one distinct claim id per
      // host and fire.
      const claimIds = (slot: string) =>
        new Set(
          monitor.commands.flatMap(([name, , keyCount, ...rest]) => {
            if (!['EVALSHA', 'EVAL'].includes(name?.toUpperCase() ?? '') || rest[0] !== 'two-hosts:{cluster-tick}:token') return [];
            const fires = rest.slice(Number(keyCount) + 2);
            return Array.from({ length: fires.length / 7 }, (_, i) => fires.slice(i * 7, i * 7 + 7)).filter((fire) => Number(fire[1]) === Date.parse(slot)).map((fire) => fire[6]);
          }),
        );
      for (const slot of slots) {
        expect(reports.filter((r) => r.type === 'run' && r.slot === slot), slot).toHaveLength(1);
        // Six workers asked; each host's authority went to Redis once.
        expect(claimIds(slot).size, slot).toBe(2);
      }
    } finally {
      monitor.stop();
      await Promise.all(fixtures.splice(0).map((f) => f.stop()));
      await redis.stop();
    }
  });
});
