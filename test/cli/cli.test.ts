// The fleetcron command as a real process: `next` from the scheduler's own schedule, and the errors and exit codes
// that need no backend (none given, one that does not answer, bad options).
import { describe, expect, it } from 'vitest';
import { jsonOf, runCli } from './run-cli.js';

interface Fire {
  instant: string;
  local: string;
  timezone: string;
}

describe('fleetcron next', () => {
  it('lists the fires across a spring-forward in Europe/Berlin: 02:30 is skipped, and runs at the end of the gap', async () => {
    const fires = jsonOf<Fire[]>(await runCli(['next', '30 2 * * *', '--tz', 'Europe/Berlin', '-n', '3', '--from', '2026-03-28T12:00:00Z', '--json']));
    expect(fires).toEqual([
      { instant: '2026-03-29T01:00:00.000Z', local: '2026-03-29T03:00:00.000+02:00', timezone: 'Europe/Berlin' },
      { instant: '2026-03-30T00:30:00.000Z', local: '2026-03-30T02:30:00.000+02:00', timezone: 'Europe/Berlin' },
      { instant: '2026-03-31T00:30:00.000Z', local: '2026-03-31T02:30:00.000+02:00', timezone: 'Europe/Berlin' },
    ]);
  });

  it('fires once across a fall-back (the first 02:30), and prints a table by default', async () => {
    const { code, stdout, stderr } = await runCli(['next', '30 2 * * *', '--tz', 'Europe/Berlin', '-n', '2', '--from', '2026-10-24T12:00:00Z']);
    expect(code, stderr).toBe(0);
    expect(stdout.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^UTC\s+LOCAL \(Europe\/Berlin\)$/),
      expect.stringMatching(/^2026-10-25T00:30:00\.000Z\s+2026-10-25T02:30:00\.000\+02:00$/),
      expect.stringMatching(/^2026-10-26T01:30:00\.000Z\s+2026-10-26T02:30:00\.000\+01:00$/),
    ]);
  });

  it('defaults to the next 5 fires from now', async () => {
    const before = Date.now();
    const fires = jsonOf<Fire[]>(await runCli(['next', '*/5 * * * *', '--tz', 'UTC', '--json']));
    expect(fires).toHaveLength(5);
    const instants = fires.map((fire) => Date.parse(fire.instant));
    expect(instants[0]).toBeGreaterThan(before - 1000);
    expect(instants[0]! - before).toBeLessThanOrEqual(300_000);
    expect(instants.slice(1).map((ms, i) => ms - instants[i]!)).toEqual([300_000, 300_000, 300_000, 300_000]);
  });

  it("a bad expression: the validator's message, which names the field, and exit code 2", async () => {
    const { code, stdout, stderr } = await runCli(['next', '70 * * * *']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim()).toBe('fleetcron: invalid cron expression "70 * * * *": 70 is a invalid expression for minute');
  });

  it('a bad time zone or count: exit code 2', async () => {
    const zone = await runCli(['next', '* * * * *', '--tz', 'Mars/Olympus']);
    expect(zone.code).toBe(2);
    expect(zone.stderr).toContain('Invalid time zone specified: Mars/Olympus');
    const count = await runCli(['next', '* * * * *', '-n', '0']);
    expect(count.code).toBe(2);
    expect(count.stderr).toContain("option '-n, --count <count>' argument '0' is invalid");
  });
});

describe('errors', () => {
  it('no backend given: says to pass --redis or --postgres (or set REDIS_URL / DATABASE_URL), exit code 2', async () => {
    for (const command of ['history', 'state', 'pause', 'resume', 'trigger']) {
      const { code, stderr } = await runCli([command, 'some-task']);
      expect(code, command).toBe(2);
      expect(stderr.trim()).toBe('fleetcron: no backend: pass --redis <url> or --postgres <url> (or set REDIS_URL or DATABASE_URL)');
    }
  });

  it('an unreachable Redis: one line naming the URL without its password, exit code 3', async () => {
    const { code, stdout, stderr } = await runCli(['history', 'some-task', '--redis', 'redis://:s3cret@127.0.0.1:1']);
    expect(code).toBe(3);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fleetcron: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1: .*ECONNREFUSED/)]);
    expect(stderr).not.toContain('s3cret');
  });

  it('an unreachable PostgreSQL: one line naming the URL without its password, exit code 3', async () => {
    const { code, stderr } = await runCli(['state', 'some-task', '--postgres', 'postgres://app:s3cret@127.0.0.1:1/app']);
    expect(code).toBe(3);
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^fleetcron: cannot reach PostgreSQL at postgres:\/\/app:\*\*\*@127\.0\.0\.1:1\/app: .*ECONNREFUSED/)]);
    expect(stderr).not.toContain('s3cret');
  });

  it("a bad option or command: commander's message, exit code 2", async () => {
    const option = await runCli(['history', 'some-task', '--bogus']);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("error: unknown option '--bogus'");
    const command = await runCli(['statuss']);
    expect(command.code).toBe(2);
    expect(command.stderr).toContain("error: unknown command 'statuss'");
    const both = await runCli(['state', 'x', '--redis', 'redis://127.0.0.1:1', '--postgres', 'postgres://127.0.0.1:1/x']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass either --redis or --postgres, not both');
  });

  it('--help: usage on stdout, exit code 0', async () => {
    const { code, stdout } = await runCli(['history', '--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: fleetcron history [options] <task>');
    expect(stdout).toContain('--postgres <url>');
  });
});
