import { assertTimeZone } from '../time/zone.js';
import { isFireBackend } from '../coordination/records/backend.js';
import { isTracking } from '../coordination/tracking.js';
import type { Logger, RunCoordinator, TaskOptions } from '../types.js';

const KNOWN = new Set<string>([
  'timezone', 'name', 'noOverlap', 'distributed', 'runCoordinator', 'distributedLease', 'maxExecutions',
  'maxRandomDelay', 'logger', 'suppressMissedWarning', 'missedExecutionTolerance', 'executeTimeout',
  'startTimeout', 'unref', 'electionTimeout', 'overlap', 'fleetMaxExecutions', 'catchUp',
]);

const REMOVED_IN_NODE_CRON_4: Record<string, string> = {
  scheduled: 'use createTask() for a task that does not start, schedule() for one that does',
  runOnInit: 'call task.execute() after scheduling',
  recoverMissedExecutions: "listen to 'execution:missed'",
};

/** Leaves room in the IPC protocol's 1024-character keys for `:` and the slot's ISO string. */
const MAX_DISTRIBUTED_NAME_LENGTH = 512;
// The election authority separates the parts of its claim keys with control characters.
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/g;
const SHOWN_NAME_LENGTH = 24;

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? `'${value}'` : String(value);
  throw new TypeError(`fleetcron: option \`${option}\` must be ${expected} (got ${shown})`);
}

type Check = (value: unknown) => boolean;

const isBoolean: Check = (v) => typeof v === 'boolean';
const isPositiveInteger: Check = (v) => Number.isSafeInteger(v) && (v as number) > 0;
const isNonNegative: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isPositive: Check = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0;

const CHECKS: Array<[keyof TaskOptions, Check, string]> = [
  ['name', (v) => typeof v === 'string' && v.length > 0, 'a non-empty string'],
  ['noOverlap', isBoolean, 'a boolean'],
  ['distributed', isBoolean, 'a boolean'],
  ['suppressMissedWarning', isBoolean, 'a boolean'],
  ['unref', isBoolean, 'a boolean'],
  ['distributedLease', isPositiveInteger, 'a positive integer number of milliseconds'],
  ['maxExecutions', isPositiveInteger, 'a positive integer'],
  ['fleetMaxExecutions', isPositiveInteger, 'a positive integer'],
  ['catchUp', isPositiveInteger, 'a positive integer number of milliseconds'],
  ['overlap', (v) => v === 'allow' || v === 'skip' || v === 'buffer-one', "'allow', 'skip' or 'buffer-one'"],
  ['maxRandomDelay', isNonNegative, 'a non-negative number of milliseconds'],
  ['missedExecutionTolerance', isNonNegative, 'a non-negative number of milliseconds'],
  ['executeTimeout', isPositive, 'a positive number of milliseconds'],
  ['startTimeout', isPositive, 'a positive number of milliseconds'],
  ['electionTimeout', isPositive, 'a positive number of milliseconds'],
  ['runCoordinator', isRunCoordinator, 'an object with a shouldRun(key, ttlMs) method'],
  ['logger', isLogger, 'an object with info, warn, error and debug methods'],
];

export function isRunCoordinator(value: unknown): value is RunCoordinator {
  return typeof value === 'object' && value !== null && typeof (value as RunCoordinator).shouldRun === 'function';
}

function isLogger(value: unknown): value is Logger {
  if (typeof value !== 'object' || value === null) return false;
  const logger = value as Record<string, unknown>;
  return ['info', 'warn', 'error', 'debug'].every((level) => typeof logger[level] === 'function');
}

/**
 * Checks every option a task gets and returns them with `null` read as "not set" (as node-cron does).
 * Unknown options are reported once through `warn`, since node-cron 3 options are silently ignored by node-cron 4.
 */
export function checkOptions(options: unknown, warn: (message: string) => void): TaskOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`fleetcron: task options must be an object (got ${Array.isArray(options) ? 'an array' : typeof options})`);
  }
  const given = options as Record<string, unknown>;
  const checked: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined || value === null) continue;
    if (!KNOWN.has(key)) {
      const removed = REMOVED_IN_NODE_CRON_4[key];
      const near = closestKnown(key);
      warn(
        removed
          ? `option \`${key}\` was removed in node-cron 4 and is ignored: ${removed}`
          : `unknown option \`${key}\` is ignored${near ? ` (did you mean \`${near}\`?)` : ''}`,
      );
      continue;
    }
    checked[key] = value;
  }
  for (const [key, check, expected] of CHECKS) {
    const value = checked[key];
    if (value !== undefined && !check(value)) fail(key, expected, value);
  }
  if (checked.timezone !== undefined) {
    if (typeof checked.timezone !== 'string') fail('timezone', 'an IANA time zone name', checked.timezone);
    assertTimeZone(checked.timezone);
  }
  if (checked.distributed === true) {
    if (checked.name === undefined) {
      throw new Error('`distributed` requires a `name` (it forms the coordination key shared across instances).');
    }
    checkDistributedName(checked.name as string);
  }
  checkFleetPolicies(checked as TaskOptions);
  return checked as TaskOptions;
}

/** The options that need fire records: only a distributed task has them, and only a coordinator that keeps records. */
function checkFleetPolicies(options: TaskOptions): void {
  const policies = [
    options.overlap === 'skip' || options.overlap === 'buffer-one' ? `\`overlap: '${options.overlap}'\`` : undefined,
    options.fleetMaxExecutions !== undefined ? '`fleetMaxExecutions`' : undefined,
    options.catchUp !== undefined ? '`catchUp`' : undefined,
  ].filter(Boolean);
  if (policies.length === 0) return;
  const what = policies.join(' and ');
  if (options.distributed !== true) {
    const local = options.overlap === 'skip' || options.overlap === 'buffer-one' ? '; within one process use `noOverlap: true`' : options.fleetMaxExecutions !== undefined ? '; within one process use `maxExecutions`' : '';
    throw new TypeError(`fleetcron: ${what} apply across the fleet and need \`distributed: true\`${local}`);
  }
  const coordinator = options.runCoordinator;
  if (coordinator && !isFireBackend(coordinator) && !isTracking(coordinator)) {
    throw new TypeError(
      `fleetcron: ${what} need a coordinator that keeps fire records — RedisLockCoordinator (fleetcron/redis), PostgresRunCoordinator ` +
        `(fleetcron/postgres), MemoryRunCoordinator, or host-local election; this task's runCoordinator (${coordinator.constructor?.name ?? 'an object'}) implements only shouldRun/onComplete`,
    );
  }
}

/** A distributed task's name goes into every election key, in every topology, so it is checked once, here. */
function checkDistributedName(name: string): void {
  if (name.length > MAX_DISTRIBUTED_NAME_LENGTH) {
    failName(`be at most ${MAX_DISTRIBUTED_NAME_LENGTH} characters (got ${name.length}: ${shownName(name)})`);
  }
  if (name.search(CONTROL_CHARACTERS) !== -1) {
    failName(`not contain control characters, U+0000-U+001F or U+007F (got ${shownName(name)})`);
  }
}

function failName(problem: string): never {
  throw new TypeError(`fleetcron: option \`name\` of a distributed task must ${problem}`);
}

/** The name quoted, cut short when long, control characters shown as `\uXXXX`. */
function shownName(name: string): string {
  const characters = [...name];
  const shown = characters.length > SHOWN_NAME_LENGTH ? `${characters.slice(0, SHOWN_NAME_LENGTH).join('')}…` : name;
  const escaped = shown.replace(CONTROL_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `'${escaped}'`;
}

/** The known option a near miss was meant to be: same letters in another case, or at most two edits away. */
function closestKnown(option: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const known of KNOWN) {
    const distance = known.toLowerCase() === option.toLowerCase() ? 0 : editDistance(known.toLowerCase(), option.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [known, distance];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
