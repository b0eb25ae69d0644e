import { afterEach, describe, expect, it } from 'vitest';
import cron from '../../src/index.js';
import type { TaskOptions } from '../../src/types.js';

const noop = () => undefined;
const coordinator = { shouldRun: () => true };

afterEach(async () => {
  await cron.shutdown(0);
});

function create(pattern: string, options: TaskOptions) {
  return cron.createTask(pattern, noop, { runCoordinator: coordinator, ...options });
}

describe('the name of a distributed task', () => {
  /** Inline and background tasks alike, whatever the topology. */
  function rejects(options: TaskOptions, message: string) {
    const before = cron.getTasks().size;
    const checked = { distributed: true, runCoordinator: coordinator, ...options };
    expect(() => cron.createTask('* * * * *', noop, checked)).toThrow(message);
    expect(() => cron.createTask('* * * * *', './tasks/backup.js', checked)).toThrow(message);
    expect(cron.getTasks().size).toBe(before);
  }

  it('is at most 512 characters, checked once at schedule time', () => {
    rejects(
      { name: 'a'.repeat(1000) },
      "fleetcron: option `name` of a distributed task must be at most 512 characters (got 1000: 'aaaaaaaaaaaaaaaaaaaaaaaa…')",
    );
    rejects({ name: `${'b'.repeat(512)}!` }, 'must be at most 512 characters (got 513: ');
    expect(create('* * * * *', { distributed: true, name: 'c'.repeat(512) }).name).toHaveLength(512);
  });

  it('has no control characters (the election authority keeps them as separators)', () => {
    for (const [name, shown] of [
      ['a\u0000b', 'a\\u0000b'],
      ['line\nbreak', 'line\\u000abreak'],
      ['unit\u001fsep', 'unit\\u001fsep'],
      ['del\u007f', 'del\\u007f'],
    ] as const) {
      rejects(
        { name },
        `fleetcron: option \`name\` of a distributed task must not contain control characters, U+0000-U+001F or U+007F (got '${shown}')`,
      );
    }
    expect(create('* * * * *', { distributed: true, name: 'tab-free name: é ✓ 🙂' }).name).toBe('tab-free name: é ✓ 🙂');
  });

  it('is cut short in the error when long, control characters escaped there too', () => {
    rejects({ name: `${'\u0001'.repeat(30)}${'x'.repeat(600)}` }, `(got 630: '${'\\u0001'.repeat(24)}…')`);
  });

  it('is not limited for a task that is not distributed, as in node-cron', () => {
    expect(cron.createTask('* * * * *', noop, { name: 'a'.repeat(1000) }).name).toHaveLength(1000);
    expect(cron.createTask('* * * * *', noop, { name: 'a\u0000b\n' }).name).toBe('a\u0000b\n');
  });
});
