#!/usr/bin/env node
/**
 * The `fleetcron` command: when an expression fires (`next`), and the fire records and fleet-wide state of a task in
 * Redis or PostgreSQL (`history`, `state`, `pause`, `resume`, `trigger`). Exit codes: 0 done, 1 failed, 2 usage
 * (bad option, expression or URL, no backend), 3 backend unreachable.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { DEFAULT_HISTORY_LIMIT } from '../coordination/records/fire-record.js';
import { connect, DEFAULT_REDIS_PREFIX, DEFAULT_TIMEOUT_MS, type BackendOptions, type Connection, type ConnectMode } from './backend.js';
import { CliError, EXIT_USAGE, messageOf } from './errors.js';
import { formatHistory, formatNext, formatState, stateReport } from './format.js';
import { nextFires } from './next.js';

interface JsonOption {
  json?: boolean;
}

function positiveInteger(max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1 || n > max) throw new InvalidArgumentError(`expected an integer from 1 to ${max}`);
    return n;
  };
}

function instant(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('expected an ISO 8601 date and time, e.g. 2026-03-29T00:00:00Z');
  return ms;
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

async function withBackend<T>(options: BackendOptions, mode: ConnectMode, use: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await connect(options, mode);
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/** A command that works on one task's records: the backend options, and `--json` for those that read. */
function backendCommand(program: Command, name: string, description: string, json: boolean): Command {
  const command = program
    .command(name)
    .description(description)
    .argument('<task>', "the task's name (its `name` option)")
    .option('--redis <url>', 'Redis URL (default: $REDIS_URL)')
    .option('--prefix <prefix>', `Redis key prefix (default: $FLEETCRON_REDIS_PREFIX or '${DEFAULT_REDIS_PREFIX}')`)
    .option('--postgres <url>', 'PostgreSQL URL (default: $DATABASE_URL)')
    .option('--schema <schema>', "PostgreSQL schema (default: 'public')")
    .option('--table <prefix>', "PostgreSQL table name prefix (default: 'fleetcron')")
    .option('--timeout <ms>', 'give up connecting after this many ms', positiveInteger(600_000), DEFAULT_TIMEOUT_MS);
  return json ? command.option('--json', 'print JSON') : command;
}

function buildProgram(): Command {
  const program = new Command('fleetcron')
    .description('Inspect cron expressions and the fire records of distributed fleetcron tasks')
    .exitOverride()
    .showHelpAfterError('(run fleetcron --help for usage)');

  program
    .command('next')
    .description('the next fires of a cron expression')
    .argument('<expression>', "a cron expression, e.g. '0 2 * * *' (quote it)")
    .option('--tz <zone>', 'IANA time zone (default: the local zone of this machine)')
    .option('-n, --count <count>', 'how many fires', positiveInteger(10_000), 5)
    .option('--from <instant>', 'the fires after this instant (ISO 8601, e.g. 2026-03-29T00:00:00Z; default: now)', instant)
    .option('--json', 'print JSON')
    .action((expression: string, options: { tz?: string; count: number; from?: number } & JsonOption) => {
      const fires = nextFires(expression, options.tz, options.count, options.from);
      if (options.json) printJson(fires);
      else print(formatNext(expression, fires));
    });

  backendCommand(program, 'history', "a task's latest fire records, newest first", true)
    .option('--limit <n>', 'at most this many records', positiveInteger(100_000), DEFAULT_HISTORY_LIMIT)
    .action((task: string, options: BackendOptions & JsonOption & { limit: number }) =>
      withBackend(options, { write: false }, async ({ backend, description }) => {
        const records = await backend.history(task, { limit: options.limit });
        if (options.json) printJson(records);
        else print(formatHistory(task, records, description));
      }),
    );

  backendCommand(program, 'state', "a task's fleet-wide state: paused, runs, latest fire", true).action((task: string, options: BackendOptions & JsonOption) =>
    withBackend(options, { write: false }, async ({ backend, description }) => {
      const [state, latest] = await Promise.all([backend.taskState(task), backend.history(task, { limit: 1 })]);
      const report = stateReport(task, state, latest[0]);
      if (options.json) printJson(report);
      else print(formatState(report, description));
    }),
  );

  for (const [name, description, done] of [
    ['pause', 'refuse every fire of the task across the fleet until resumed', 'paused'],
    ['resume', 'let the task fire again', 'resumed'],
  ] as const) {
    backendCommand(program, name, description, false).action((task: string, options: BackendOptions) =>
      withBackend(options, { write: true }, async (connection) => {
        await connection.backend[name](task);
        print(`${done} task '${task}' in ${connection.description}`);
      }),
    );
  }

  backendCommand(program, 'trigger', 'ask for an extra fire of the task now, run by a process that has it', true).action((task: string, options: BackendOptions & JsonOption) =>
    withBackend(options, { write: true }, async ({ backend, description }) => {
      const slot = await backend.trigger(task);
      if (options.json) printJson({ task, slot });
      else print(`triggered task '${task}' in ${description}: slot ${new Date(slot).toISOString()} (${slot})`);
    }),
  );

  return program;
}

/** Runs the command line `argv` (node's: program, script, arguments...); resolves with the exit code. */
async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has printed its message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    process.stderr.write(`fleetcron: ${messageOf(error)}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}

// The process ends by itself once every connection is closed: exitCode, not exit(), so no output is cut short.
main(process.argv).then((code) => (process.exitCode = code));
