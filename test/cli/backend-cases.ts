// What the backend commands do, the same against each backend: records made by claiming with the coordinator in the
// test, read back through the command; pause and resume seen by the coordinator; a trigger's slot in triggers().
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FireBackend } from '../../src/coordination/records/backend.js';
import type { FireRecord, Holder } from '../../src/coordination/records/fire-record.js';
import { jsonOf, runCli } from './run-cli.js';

export interface CliBackendSetup {
  /** The options that point the command at this test's backend, e.g. `['--redis', url, '--prefix', prefix]`. */
  args: string[];
  coordinator: FireBackend;
  cleanup(): Promise<void>;
}

interface StateJson {
  task: string;
  paused: boolean;
  runs: number;
  latest: FireRecord | null;
}

const SLOT = Date.parse('2030-01-01T00:00:00.000Z');
const holder: Holder = { host: 'cli-test-host', pid: 4242, incarnation: 'cli-test-incarnation' };

async function won(coordinator: FireBackend, task: string, slot: number): Promise<number> {
  const [answer] = await coordinator.claim([{ task, slot, leaseMs: 60_000, holder, claimId: randomUUID() }]);
  if (!answer?.won) throw new Error(`expected to win ${task} at ${slot}: ${JSON.stringify(answer)}`);
  return answer.fencingToken;
}

export function describeCliBackend(name: string, available: boolean, setup: () => Promise<CliBackendSetup>): void {
  describe.runIf(available)(`fleetcron on ${name}`, () => {
    let backend: CliBackendSetup;
    const cli = (...args: string[]) => runCli([...args, ...backend.args]);
    beforeAll(async () => {
      backend = await setup();
    });
    afterAll(async () => {
      await backend?.cleanup();
    });

    describe('a task with records: one succeeded, one failed, one running', () => {
      const task = 'nightly-report';
      beforeAll(async () => {
        const { coordinator } = backend;
        const first = await won(coordinator, task, SLOT);
        await coordinator.end([{ task, slot: SLOT, fencingToken: first, outcome: { state: 'succeeded', startedAt: SLOT + 10, endedAt: SLOT + 1510 } }]);
        const second = await won(coordinator, task, SLOT + 60_000);
        const error = { name: 'Boom', message: 'the report server said no' };
        await coordinator.end([{ task, slot: SLOT + 60_000, fencingToken: second, outcome: { state: 'failed', startedAt: SLOT + 60_000, endedAt: SLOT + 60_250, error } }]);
        await won(coordinator, task, SLOT + 120_000);
      });

      it('history --json prints the records the coordinator has, newest first', async () => {
        const records = jsonOf<FireRecord[]>(await cli('history', task, '--json'));
        expect(records).toEqual(await backend.coordinator.history(task));
        expect(records.map((r) => r.state)).toEqual(['running', 'failed', 'succeeded']);
      });

      it('history prints a table: slot, state, holder host/pid, duration, error', async () => {
        const { code, stdout, stderr } = await cli('history', task);
        expect(code, stderr).toBe(0);
        const lines = stdout.trimEnd().split('\n');
        expect(lines[0]).toMatch(/^SLOT\s+STATE\s+HOLDER \(HOST\/PID\)\s+DURATION\s+ERROR$/);
        expect(lines).toHaveLength(4);
        expect(lines[1]).toMatch(/^2030-01-01T00:02:00\.000Z\s+running\s+cli-test-host\/4242\s+running for /);
        expect(lines[2]).toMatch(/^2030-01-01T00:01:00\.000Z\s+failed\s+cli-test-host\/4242\s+250 ms\s+Boom: the report server said no$/);
        expect(lines[3]).toMatch(/^2030-01-01T00:00:00\.000Z\s+succeeded\s+cli-test-host\/4242\s+1\.50 s$/);
      });

      it('history --limit 1 prints the newest record only', async () => {
        const records = jsonOf<FireRecord[]>(await cli('history', task, '--limit', '1', '--json'));
        expect(records.map((r) => r.slot)).toEqual([SLOT + 120_000]);
      });

      it('state prints paused, runs and the latest fire', async () => {
        const state = jsonOf<StateJson>(await cli('state', task, '--json'));
        expect(state).toMatchObject({ task, paused: false, runs: 3 });
        expect(state.latest).toMatchObject({ slot: SLOT + 120_000, state: 'running', holder });
        const { code, stdout } = await cli('state', task);
        expect(code).toBe(0);
        expect(stdout).toContain('paused: no');
        expect(stdout).toContain('runs: 3');
        expect(stdout).toContain('latest fire: 2030-01-01T00:02:00.000Z running on cli-test-host/4242');
      });
    });

    it('a task without records: "no record", and no invented numbers', async () => {
      const history = await cli('history', 'never-ran');
      expect(history.code, history.stderr).toBe(0);
      expect(history.stdout).toMatch(/^no record of task 'never-ran' in /);
      expect(jsonOf<FireRecord[]>(await cli('history', 'never-ran', '--json'))).toEqual([]);
      const state = await cli('state', 'never-ran');
      expect(state.code, state.stderr).toBe(0);
      expect(state.stdout).toMatch(/no record/);
      expect(state.stdout).not.toMatch(/runs/);
      expect(jsonOf<StateJson>(await cli('state', 'never-ran', '--json')).latest).toBeNull();
    });

    it('pause makes the task paused across the fleet, resume undoes it', async () => {
      const task = 'to-pause';
      const paused = await cli('pause', task);
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stdout).toMatch(/^paused task 'to-pause' in /);
      expect(await backend.coordinator.taskState(task)).toMatchObject({ paused: true });
      expect(jsonOf<StateJson>(await cli('state', task, '--json'))).toMatchObject({ paused: true, latest: null });
      expect((await cli('state', task)).stdout).toContain('paused: yes');
      // The coordinator refuses its claims now.
      const [answer] = await backend.coordinator.claim([{ task, slot: SLOT, leaseMs: 60_000, holder, claimId: randomUUID() }]);
      expect(answer).toMatchObject({ won: false, refused: 'paused' });

      const resumed = await cli('resume', task);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(await backend.coordinator.taskState(task)).toMatchObject({ paused: false });
      expect(jsonOf<StateJson>(await cli('state', task, '--json'))).toMatchObject({ paused: false });
    });

    it('trigger asks for a fire now: its slot is in triggers()', async () => {
      const task = 'to-trigger';
      const before = Date.now() - 60_000;
      const { slot, task: triggered } = jsonOf<{ task: string; slot: number }>(await cli('trigger', task, '--json'));
      expect(triggered).toBe(task);
      expect(await backend.coordinator.triggers(before)).toContainEqual({ task, slot });
      const human = await cli('trigger', 'to-trigger-too');
      expect(human.code, human.stderr).toBe(0);
      expect(human.stdout).toMatch(/^triggered task 'to-trigger-too' in .*: slot \d{4}-\d\d-\d\dT[\d:.]+Z \(\d+\)$/m);
    });
  });
}
