// Fleet-wide policies on two hosts — two process trees, a node:cluster primary and two workers each, the second
// host's clock 400 ms ahead — sharing Redis or PostgreSQL as the backend that keeps the fleet's fire records.
import { afterEach, describe, expect, it } from 'vitest';
import { recordBackends } from '../support/backends.js';
import { Fixture, type Report } from '../support/processes.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

const BACKENDS = await recordBackends();

const fixtures: Fixture[] = [];
afterEach(async () => {
  await Promise.all(fixtures.splice(0).map((f) => f.stop()));
});

function twoHosts(env: NodeJS.ProcessEnv): [Fixture, Fixture] {
  const hosts: [Fixture, Fixture] = [
    new Fixture('records-host.ts', { ...env, HOST_NAME: 'a', WORKERS: '2' }),
    new Fixture('records-host.ts', { ...env, HOST_NAME: 'b', WORKERS: '2', CLOCK_OFFSET_MS: '400' }),
  ];
  fixtures.push(...hosts);
  return hosts;
}

const all = (hosts: Fixture[], type: string): Report[] => hosts.flatMap((h) => h.of(type));
const slots = (reports: Report[]) => reports.map((r) => r.slot as string);
/** The fire records of the task, as host a last read them. */
const latestRecords = (hosts: Fixture[]) => (hosts[0]!.of('history').at(-1)?.records ?? []) as Array<{ slot: number; state: string }>;

/** Runs an admin process (no task scheduled) that pauses, resumes or triggers the task; resolves with its report. */
async function admin(env: NodeJS.ProcessEnv, action: 'pause' | 'resume' | 'trigger'): Promise<Report> {
  const script = new Fixture('records-admin.ts', { ...env, ACTION: action });
  fixtures.push(script);
  await script.exit();
  const [done] = script.of('done');
  if (!done) throw new Error(`the admin process did not ${action}:\n${script.output}`);
  return done;
}

/** Every fire from the first to the last seen, `periodMs` apart, is listed exactly once. */
function expectEachFireOnce(seen: string[], periodMs: number): void {
  const sorted = [...seen].sort();
  expect(new Set(sorted).size, `a fire reported twice: ${sorted.join(', ')}`).toBe(sorted.length);
  for (let i = 1; i < sorted.length; i++) expect(Date.parse(sorted[i]!) - Date.parse(sorted[i - 1]!), `a fire unaccounted for after ${sorted[i - 1]}`).toBe(periodMs);
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.up)(`two hosts on ${backend.name}: fleet-wide policies`, () => {
    it("overlap 'skip', a 5 s job every 2 s: no two runs overlap in time across hosts; every fire is run or reported once", async () => {
      const { env, cleanup } = backend.make();
      try {
        const hosts = twoHosts({ ...env, SCHEDULE: '*/2 * * * * *', RUN_MS: '5000', LEASE_MS: '2000', OVERLAP: 'skip' });
        await hosts[0].until(() => all(hosts, 'done').length >= 3, 45_000, 'three finished runs');
        const runs = all(hosts, 'run');
        const done = new Map(all(hosts, 'done').map((d) => [d.slot as string, d.at as number]));
        const finished = runs.filter((r) => done.has(r.slot as string)).sort((x, y) => (x.at as number) - (y.at as number));
        for (let i = 1; i < finished.length; i++) {
          expect(finished[i]!.at as number, `${finished[i]!.slot} started before ${finished[i - 1]!.slot} ended`).toBeGreaterThan(done.get(finished[i - 1]!.slot as string)!);
        }
        // A fire is run or reported as overlapping, once, by one process of the fleet: up to the last fire both hosts saw.
        const last = [...slots(runs), ...slots(all(hosts, 'overlap'))].sort().at(-1)!;
        const settled = (r: Report) => (r.slot as string) < last;
        expectEachFireOnce([...slots(runs.filter(settled)), ...slots(all(hosts, 'overlap').filter(settled))], 2000);
        expect(all(hosts, 'overlap').length).toBeGreaterThanOrEqual(2);
        expect(all(hosts, 'lost')).toEqual([]);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 70_000);

    it("overlap 'buffer-one', a 5 s job every 2 s: one fire waits and runs right after the run before it, anywhere; the others are reported", async () => {
      const { env, cleanup } = backend.make();
      try {
        const hosts = twoHosts({ ...env, SCHEDULE: '*/2 * * * * *', RUN_MS: '5000', LEASE_MS: '2000', OVERLAP: 'buffer-one' });
        await hosts[0].until(() => all(hosts, 'done').length >= 4, 60_000, 'four finished runs');
        const runs = all(hosts, 'run');
        const done = new Map(all(hosts, 'done').map((d) => [d.slot as string, d.at as number]));
        const finished = runs.filter((r) => done.has(r.slot as string)).sort((x, y) => (x.at as number) - (y.at as number));
        for (let i = 1; i < finished.length; i++) {
          const [before, run] = [finished[i - 1]!, finished[i]!];
          const end = done.get(before.slot as string)!;
          expect(run.at as number, `${run.slot} started before ${before.slot} ended`).toBeGreaterThan(end);
          // A poll every 0.5 s, and the claim's round trip, on a busy machine: well within 3 s.
          expect((run.at as number) - end, `${run.slot} waited long after ${before.slot} ended`).toBeLessThan(3000);
          expect(run.slot as string, 'runs in the order of their fires').toBe([before.slot as string, run.slot as string].sort()[1]);
        }
        // Every fire up to the last one seen is run, reported as overlap, or (the newest) still waiting, once.
        // (The records are read every 500 ms: a fire they show waiting may have started since.)
        const waiting = latestRecords(hosts)
          .filter((r) => r.state === 'buffered')
          .map((r) => new Date(r.slot).toISOString())
          .filter((slot) => !slots(runs).includes(slot));
        expect(waiting.length, 'one waits at most').toBeLessThanOrEqual(1);
        const last = [...slots(runs), ...slots(all(hosts, 'overlap'))].sort().at(-1)!;
        const settled = (slot: string) => slot < last;
        expectEachFireOnce([...slots(runs), ...slots(all(hosts, 'overlap')), ...waiting].filter(settled), 2000);
        expect(all(hosts, 'skipped').filter((r) => r.reason !== 'not-elected')).toEqual([]);
        expect(all(hosts, 'lost')).toEqual([]);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 90_000);

    it('fleetMaxExecutions 3: exactly three runs across both hosts, then every worker stops its copy with execution:maxReached', async () => {
      const { env, cleanup } = backend.make();
      try {
        const hosts = twoHosts({ ...env, SCHEDULE: '* * * * * *', RUN_MS: '50', FLEET_MAX: '3' });
        await hosts[0].until(() => all(hosts, 'maxReached').length >= 4, 30_000, 'all four workers stopping');
        // The copies stopped: two more seconds bring no run.
        await new Promise((resolve) => setTimeout(resolve, 2000));
        expect(all(hosts, 'run')).toHaveLength(3);
        expect(new Set(all(hosts, 'maxReached').map((r) => r.pid)).size).toBe(4);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 60_000);

    it('catchUp: every process down across a fire, started again within the window: that fire runs once; a second restart does not run it again', async () => {
      const { env, cleanup } = backend.make();
      const fleetEnv = { ...env, SCHEDULE: '*/5 * * * * *', RUN_MS: '50', CATCH_UP: '30000' };
      try {
        const first = twoHosts(fleetEnv);
        await first[0].until(() => all(first, 'done').length >= 1, 30_000, 'a run');
        const ranBefore = slots(all(first, 'run'));
        await Promise.all(first.map((host) => host.stop()));
        // Down for more than a period: at least one fire passes with nobody up.
        await new Promise((resolve) => setTimeout(resolve, 6000));
        const second = twoHosts(fleetEnv);
        await second[0].until(() => all(second, 'run').some((r) => r.catchUp), 30_000, 'the catch-up run');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const caughtUp = all(second, 'run').filter((r) => r.catchUp);
        expect(caughtUp, 'one catch-up across two hosts and four workers').toHaveLength(1);
        const missed = caughtUp[0]!.slot as string;
        expect(ranBefore).not.toContain(missed);
        await Promise.all(second.map((host) => host.stop()));
        const third = twoHosts(fleetEnv);
        await third[0].until(() => all(third, 'done').length >= 1, 30_000, 'a run after the second restart');
        const everyRun = [...ranBefore, ...slots(all(second, 'run')), ...slots(all(third, 'run'))];
        expect(everyRun.filter((slot) => slot === missed), 'the caught-up fire ran once in all').toHaveLength(1);
        expect(new Set(everyRun).size, 'no fire ran twice').toBe(everyRun.length);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 120_000);

    it(`catchUp after an outage of ${backend.name}: the latest fire it left unrun runs once when it is back, none twice`, async () => {
      const { env, cleanup } = backend.make();
      const proxy = await startTcpProxy(backend.port);
      try {
        const hosts = twoHosts({ ...env, ...backend.through(proxy.port), SCHEDULE: '*/3 * * * * *', RUN_MS: '50', CATCH_UP: '20000' });
        await hosts[0].until(() => all(hosts, 'done').length >= 2, 30_000, 'two runs');
        // A task new to the backend caught up the window's latest fire at start, if one was in it.
        const atStart = all(hosts, 'run').filter((r) => r.catchUp).length;
        proxy.partition();
        const uncoordinated = () => [...new Set(slots(all(hosts, 'skipped').filter((r) => r.reason === 'coordinator-error')))];
        await hosts[0].until(() => uncoordinated().length >= 2, 30_000, 'two fires skipped in the outage');
        proxy.heal();
        // The latest fire each worker could not coordinate runs once: caught up, or run by the other host, which
        // reached the backend for it. A link that flaps as it heals may skip a fire after an earlier catch-up: then
        // that one is caught up too.
        const owed = () => {
          const latestOf = new Map<number, string>();
          for (const r of all(hosts, 'skipped').filter((x) => x.reason === 'coordinator-error')) {
            const pid = r.pid as number;
            if ((latestOf.get(pid) ?? '') < (r.slot as string)) latestOf.set(pid, r.slot as string);
          }
          return [...new Set(latestOf.values())];
        };
        const ran = (slot: string) => all(hosts, 'run').filter((r) => r.slot === slot);
        const catchUps = () => all(hosts, 'run').filter((r) => r.catchUp).slice(atStart);
        await hosts[0].until(() => owed().every((slot) => ran(slot).length > 0), 30_000, 'the run of the latest fire each worker skipped');
        const ranBefore = all(hosts, 'run').length;
        await hosts[0].until(() => all(hosts, 'run').length >= ranBefore + 2, 30_000, 'two more runs');
        const told = `catch-ups ${JSON.stringify(catchUps().map((r) => [r.host, r.slot]))}, uncoordinated ${uncoordinated().sort().join(' ')}`;
        expect(catchUps().every((r) => uncoordinated().includes(r.slot as string)), `only fires the outage left unrun are caught up: ${told}`).toBe(true);
        for (const slot of owed()) expect(ran(slot), `${slot}: ${told}`).toHaveLength(1);
        const runs = slots(all(hosts, 'run'));
        expect(new Set(runs).size, `no fire ran twice: ${runs.join(', ')}`).toBe(runs.length);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await proxy.close();
        await cleanup();
      }
    }, 120_000);

    it('trigger from an admin process: exactly one run across both hosts, with ctx.triggered, recorded like any fire', async () => {
      const { env, cleanup } = backend.make();
      try {
        // A yearly task: nothing of its schedule fires during the test.
        const hosts = twoHosts({ ...env, SCHEDULE: '0 0 1 1 *', RUN_MS: '50' });
        await hosts[0].until(() => hosts.every((h) => h.of('online').length === 2), 30_000, 'both hosts up');
        // The workers subscribe as their task starts; give them a poll's time.
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const first = await admin(env, 'trigger');
        await hosts[0].until(() => all(hosts, 'done').length >= 1, 20_000, 'the triggered run');
        const second = await admin(env, 'trigger');
        await hosts[0].until(() => all(hosts, 'done').length >= 2, 20_000, 'the second triggered run');
        await new Promise((resolve) => setTimeout(resolve, 2000));
        // In the order of their slots: the two hosts' reports are read one host after the other.
        const runs = all(hosts, 'run').sort((x, y) => (x.slot as string).localeCompare(y.slot as string));
        expect(runs.map((r) => [r.slot, r.triggered])).toEqual([[first.slot, true], [second.slot, true]]);
        expect(Date.parse(first.slot as string) % 1000, 'a trigger is never a whole second, so never a fire of a schedule').not.toBe(0);
        expect(all(hosts, 'skipped'), 'losing a trigger is no skip: somebody else runs it').toEqual([]);
        await hosts[0].until(() => latestRecords(hosts).filter((r) => r.state === 'succeeded').length === 2, 5000, 'both runs in the records');
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 90_000);

    it('pause from an admin process: no host runs, each paused fire is reported once with reason paused; resume: runs again', async () => {
      const { env, cleanup } = backend.make();
      try {
        const hosts = twoHosts({ ...env, SCHEDULE: '* * * * * *', RUN_MS: '50' });
        await hosts[0].until(() => all(hosts, 'done').length >= 2, 30_000, 'two runs');
        const paused = await admin(env, 'pause');
        expect(paused.state).toEqual({ paused: true, runs: expect.any(Number) });
        // Each host's other worker loses every fire (not-elected); the paused fires are told to one process each.
        const pausedFires = () => all(hosts, 'skipped').filter((r) => r.reason === 'paused');
        await hosts[0].until(() => pausedFires().length >= 3, 20_000, 'three paused fires');
        const runsWhilePaused = all(hosts, 'run').length;
        const resumed = await admin(env, 'resume');
        expect(resumed.state).toMatchObject({ paused: false });
        await hosts[0].until(() => all(hosts, 'run').length >= runsWhilePaused + 2, 20_000, 'two runs after resume');
        const skipped = pausedFires();
        expect(all(hosts, 'skipped').filter((r) => r.reason !== 'not-elected' && r.reason !== 'paused')).toEqual([]);
        // No fire both ran and was skipped, none reported twice, none missing between the first and the last.
        const runs = slots(all(hosts, 'run'));
        expectEachFireOnce([...runs, ...slots(skipped)], 1000);
        // Paused fires lie between the pause and the resume: every run is before the first skip or after the last.
        const [firstSkip, lastSkip] = [slots(skipped).sort()[0]!, slots(skipped).sort().at(-1)!];
        expect(runs.filter((slot) => slot > firstSkip && slot < lastSkip)).toEqual([]);
      } finally {
        await Promise.all(fixtures.splice(0).map((f) => f.stop()));
        await cleanup();
      }
    }, 70_000);
  });
}
