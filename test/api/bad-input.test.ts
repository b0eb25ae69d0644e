import { afterEach, describe, expect, it } from 'vitest';
import cron from '../../src/index.js';
import { recordingLogger } from '../support/quiet-logger.js';

afterEach(async () => {
  await cron.shutdown(0);
});

const noop = () => undefined;

function rejects(call: () => unknown, message: RegExp | string) {
  const before = cron.getTasks().size;
  expect(call).toThrow(message);
  expect(cron.getTasks().size).toBe(before);
}

describe('bad input is a clear error at schedule time, and nothing stays registered', () => {
  it('names the field and value of a wrong expression', () => {
    rejects(() => cron.schedule('61 * * * *', noop), '61 is a invalid expression for minute');
    rejects(() => cron.schedule('* * 32 * *', noop), '32 is a invalid expression for day of month');
    rejects(() => cron.schedule('* * * * * * *', noop), 'expected 5 or 6 fields but got 7');
    rejects(() => cron.schedule('* * * * mon-funday', noop), /invalid expression for week day/);
    rejects(() => cron.createTask(42 as unknown as string, noop), 'pattern must be a string');
  });

  it('names a wrong time zone', () => {
    rejects(() => cron.schedule('* * * * *', noop, { timezone: 'Mars/Olympus_Mons' }), /Invalid time zone specified: Mars\/Olympus_Mons/);
  });

  it('names each wrong option and what it must be', () => {
    rejects(() => cron.schedule('* * * * *', noop, { maxExecutions: -1 }), 'option `maxExecutions` must be a positive integer (got -1)');
    rejects(() => cron.schedule('* * * * *', noop, { maxExecutions: 1.5 }), 'option `maxExecutions` must be a positive integer (got 1.5)');
    rejects(() => cron.schedule('* * * * *', noop, { distributedLease: 'x' as unknown as number }), "option `distributedLease` must be a positive integer number of milliseconds (got 'x')");
    rejects(() => cron.schedule('* * * * *', noop, { noOverlap: 'yes' as unknown as boolean }), 'option `noOverlap` must be a boolean');
    rejects(() => cron.schedule('* * * * *', noop, { missedExecutionTolerance: -1 }), 'option `missedExecutionTolerance`');
    rejects(() => cron.schedule('* * * * *', noop, { maxRandomDelay: Number.NaN }), 'option `maxRandomDelay`');
    rejects(() => cron.schedule('* * * * *', noop, { electionTimeout: 0 }), 'option `electionTimeout`');
    rejects(() => cron.schedule('* * * * *', noop, { name: '' }), 'option `name` must be a non-empty string');
    rejects(() => cron.schedule('* * * * *', noop, { logger: console.log as never }), 'option `logger`');
    rejects(() => cron.schedule('* * * * *', noop, { distributed: true, name: 'x', runCoordinator: { run: noop } as never }), 'option `runCoordinator`');
    rejects(() => cron.schedule('* * * * *', noop, 'daily' as never), 'task options must be an object (got string)');
  });

  it('asks for a function (or, for background tasks, a path)', () => {
    rejects(() => cron.schedule('* * * * *', undefined as never), /second argument/);
    rejects(() => cron.schedule('* * * * *', 42 as never), /second argument/);
  });

  it('rejects an expression that never fires', () => {
    rejects(() => cron.schedule('0 0 1 2 1#5', noop), /never fires/);
  });

  it('warns about unknown options and node-cron 3 leftovers instead of ignoring them silently', () => {
    const logger = recordingLogger();
    cron.schedule('* * * * *', noop, { scheduled: false, timeZone: 'UTC', maxExecution: 3, colour: 'red', logger } as never).destroy();
    expect(logger.of('warn')).toEqual([
      'option `scheduled` was removed in node-cron 4 and is ignored: use createTask() for a task that does not start, schedule() for one that does',
      'unknown option `timeZone` is ignored (did you mean `timezone`?)',
      'unknown option `maxExecution` is ignored (did you mean `maxExecutions`?)',
      'unknown option `colour` is ignored',
    ]);
  });

  it('reads null options as not set, as node-cron does', () => {
    const task = cron.createTask('* * * * *', noop, { maxExecutions: null, timezone: null } as never);
    expect(task.runsLeft()).toBeUndefined();
  });
});

describe('task fields node-cron code reads', () => {
  it('carries timezone and cronExpression, as node-cron 4.6 tasks do', () => {
    const zoned = cron.createTask('0 3 * * *', () => undefined, { timezone: 'Europe/Berlin' });
    const plain = cron.createTask('*/5 * * * *', () => undefined);
    expect([zoned.timezone, zoned.cronExpression]).toEqual(['Europe/Berlin', '0 3 * * *']);
    expect([plain.timezone, plain.cronExpression]).toEqual([undefined, '*/5 * * * *']);
    zoned.destroy();
    plain.destroy();
  });
});
