// Two hosts — two process trees, a node:cluster primary and its workers each, the second one's clock 400 ms ahead —
// sharing Redis or PostgreSQL as the backend that keeps the fleet's fire records.
import { afterEach, describe, expect, it } from 'vitest';
import { recordBackends } from '../support/backends.js';
import { Fixture, isAlive, type Report } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const BACKENDS = await recordBackends();

interface RecordReport {
  slot: number;
  state: string;
  holder: { host: string; pid: number };
  fencingToken: number;
  claimedAt: number;
  leaseUntil: number;
  durationMs?: number;
  error?: { message: string };
}

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

function twoHosts(env: NodeJS.ProcessEnv): [Fixture, Fixture] {
  const hosts: [Fixture, Fixture] = [
    new Fixture('records-host.ts', { ...env, HOST_NAME: 'a' }),
    new Fixture('records-host.ts', { ...env, HOST_NAME: 'b', CLOCK_OFFSET_MS: '400' }),
  ];
  fixtures.push(...hosts);
  return hosts;
}

const all = (hosts: Fixture[], type: string): Report[] => hosts.flatMap((h) => h.of(type));
const latestHistory = (host: Fixture) => (host.of('history').at(-1)?.records ?? []) as RecordReport[];

for (const backend of BACKENDS) {
  describe.skipIf(!backend.up)(`two hosts on ${backend.name}: the fleet's fire records`, () => {
    it('a 6 s job every 5 s with a 1 s lease: renewed while it runs, run once per fire, tokens increasing across hosts, each fire recorded with its holder', async () => {
      const { env, cleanup } = backend.make();
      try {
        // Each run outlasts its lease six times and its period too: the next fire is claimed while it still runs.
        const hosts = twoHosts({ ...env, WORKERS: '2', SCHEDULE: '*/5 * * * * *', RUN_MS: '6000', LEASE_MS: '1000' });
        await hosts[0].until(() => all(hosts, 'done').length >= 2, 40_000, 'two finished runs');
        const runs = all(hosts, 'run');
        const done = all(hosts, 'done').map((d) => d.slot as string);
        // Once per fire across both hosts, and the tokens grow fire after fire whichever host ran it.
        const slots = runs.map((r) => r.slot as string);
        expect(new Set(slots).size).toBe(slots.length);
        const bySlot = [...runs].sort((x, y) => String(x.slot).localeCompare(String(y.slot)));
        const tokens = bySlot.map((r) => r.token as number);
        expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
        expect(new Set(tokens).size).toBe(tokens.length);
        // Each run kept its claim, renewed: seen running with a lease far past the first one, and the next fire's claim
        // did not find it lapsed (nothing reported lost), nothing aborted.
        const renewed = hosts.flatMap((h) => h.of('history')).flatMap((h) => h.records as RecordReport[]).filter((r) => r.state === 'running' && r.leaseUntil - r.claimedAt > 3000);
        expect(renewed.length, 'a running record whose lease was renewed').toBeGreaterThan(0);
        expect(all(hosts, 'aborted')).toEqual([]);
        expect(all(hosts, 'lost')).toEqual([]);
        // The records, as either host reads them: every finished fire succeeded, held by the worker that ran it.
        await hosts[1].until(() => done.every((slot) => latestHistory(hosts[1]).some((r) => new Date(r.slot).toISOString() === slot && r.state === 'succeeded')), 5000, 'the finished runs in the records');
        for (const record of latestHistory(hosts[1]).filter((r) => done.includes(new Date(r.slot).toISOString()))) {
          const run = runs.find((r) => r.slot === new Date(record.slot).toISOString())!;
          expect(record).toMatchObject({ state: 'succeeded', holder: { host: expect.any(String), pid: run.pid }, fencingToken: run.token });
          expect(record.durationMs).toBeGreaterThanOrEqual(5900);
        }
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 60_000);

    it(`${backend.name} cut off mid-run: ctx.signal aborts, and once it is back the fire's record says how the run ended and why`, async () => {
      const { env, cleanup } = backend.make();
      const proxy = await startTcpProxy(backend.port);
      try {
        const [host] = [new Fixture('records-host.ts', { ...env, ...backend.through(proxy.port), WORKERS: '1', SCHEDULE: '*/3 * * * * *', RUN_MS: '20000', LEASE_MS: '1000', ABORTABLE: '1' })];
        fixtures.push(host);
        await host.until((r) => r.some((x) => x.type === 'run'), 20_000, 'a run');
        const run = host.of('run')[0]!;
        proxy.partition();
        await host.until((r) => r.some((x) => x.type === 'aborted' && x.slot === run.slot), 10_000, 'the run aborted');
        expect(host.of('aborted')[0]!.reason).toMatch(/lost its claim: its lease could not be renewed before it ran out/);
        proxy.heal();
        const recorded = () => latestHistory(host).find((r) => new Date(r.slot).toISOString() === run.slot);
        await host.until(() => recorded()?.state === 'failed', 30_000, "the run's end in its record");
        expect(recorded()!.error!.message).toMatch(/lost its claim: its lease could not be renewed/);
        expect(recorded()!.fencingToken).toBe(run.token);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await proxy.close();
        await cleanup();
      }
    }, 60_000);

    it('the host running a fire SIGKILLed mid-run, whole: the other host reports that fire as lost, naming the last holder', async () => {
      const { env, cleanup } = backend.make();
      try {
        const hosts = twoHosts({ ...env, WORKERS: '2', SCHEDULE: '*/2 * * * * *', RUN_MS: '1500', LEASE_MS: '600' });
        await hosts[0].until(() => hosts.every((h) => h.of('online').length === 2), 20_000, 'both hosts up');
        // Wait for a run, then kill the whole tree of the host running it: nobody is left to end its record.
        await hosts[0].until(() => all(hosts, 'run').length > 0, 20_000, 'a run');
        const victim = all(hosts, 'run')[0]!;
        const [dead, survivor] = victim.host === 'a' ? hosts : [hosts[1], hosts[0]];
        const primary = dead.of('primary')[0]!.pid as number;
        for (const pid of [primary, ...dead.of('online').map((o) => o.pid as number)]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await survivor.until((r) => r.some((x) => x.type === 'lost' && x.slot === victim.slot), 15_000, 'the other host reporting the lost fire');
        const lost = survivor.of('lost').find((x) => x.slot === victim.slot)!;
        expect(String(lost.error)).toMatch(new RegExp(`pid ${String(victim.pid)}\\b`));
        expect(survivor.of('lost').filter((x) => x.slot === victim.slot), 'reported once').toHaveLength(1);
        // Nobody ran it again; the surviving host's records say lost.
        expect(all(hosts, 'run').filter((r) => r.slot === victim.slot)).toHaveLength(1);
        await survivor.until(() => latestHistory(survivor).some((r) => new Date(r.slot).toISOString() === victim.slot && r.state === 'lost'), 5000, 'the lost record');
        expect(isAlive(primary)).toBe(false);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 60_000);
  });
}
