import { afterEach, describe, expect, it } from 'vitest';
import cron from '../../src/index.js';
import type { TaskOptions } from '../../src/types.js';
import { recordingLogger } from '../support/quiet-logger.js';

const noop = () => undefined;
const coordinator = { shouldRun: () => true };
const localZone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
let names = 0;
/** A fresh name per test, since the zone warning is given once per name per process. */
const uniqueName = (label: string) => `${label}-${++names}`;

afterEach(async () => {
  cron.setLogger(null);
  await cron.shutdown(0);
});

function create(pattern: string, options: TaskOptions) {
  return cron.createTask(pattern, noop, { runCoordinator: coordinator, ...options });
}

describe('a distributed task without `timezone`', () => {
  it('is warned about once per name, through its logger, naming the zone this process reads it in', () => {
    const logger = recordingLogger();
    const name = uniqueName('nightly');
    create('0 3 * * *', { name, distributed: true, logger });
    create('0 3 * * *', { name, distributed: true, logger });
    create('0 4 * * *', { name, distributed: true, logger });
    expect(logger.of('warn')).toEqual([
      `distributed task "${name}" has no \`timezone\`: this process reads '0 3 * * *' in ${localZone}, and a replica ` +
        `in another zone would plan other instants, so each would run the same fire. Set \`timezone: '${localZone}'\` ` +
        `(or 'UTC') on every replica.`,
    ]);
    const other = uniqueName('hourly');
    create('0 * * * *', { name: other, distributed: true, logger });
    expect(logger.of('warn')).toHaveLength(2);
    expect(logger.of('warn')[1]).toContain(`"${other}"`);
  });

  it('names the zone the process reads it in at the time, which follows TZ', () => {
    const saved = process.env.TZ;
    process.env.TZ = 'America/New_York';
    try {
      const logger = recordingLogger();
      create('0 * * * *', { name: uniqueName('hourly'), distributed: true, logger });
      expect(logger.of('warn')).toHaveLength(1);
      expect(logger.of('warn')[0]).toContain("reads '0 * * * *' in America/New_York");
      expect(logger.of('warn')[0]).toContain("Set `timezone: 'America/New_York'` (or 'UTC')");
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('is warned about through the global logger when it has none of its own', () => {
    const logger = recordingLogger();
    cron.setLogger(logger);
    create('30 8 * * 1-5', { name: uniqueName('weekdays'), distributed: true });
    expect(logger.of('warn')).toHaveLength(1);
    expect(logger.of('warn')[0]).toContain(`timezone: '${localZone}'`);
  });

  it('is not warned about when its fires are the same instants in every zone', () => {
    const logger = recordingLogger();
    for (const pattern of ['* * * * * *', '*/10 * * * * *', '* * * * *', '*/5 * * * *', '*/15 * * * *']) {
      create(pattern, { name: uniqueName('often'), distributed: true, logger });
    }
    expect(logger.lines).toEqual([]);
  });

  it('is the only kind warned about: not one with `timezone`, nor one that is not distributed', () => {
    const logger = recordingLogger();
    create('0 3 * * *', { name: uniqueName('zoned'), distributed: true, timezone: 'UTC', logger });
    create('0 3 * * *', { name: uniqueName('local'), logger });
    create('0 3 * * *', { logger });
    expect(logger.lines).toEqual([]);
  });
});
