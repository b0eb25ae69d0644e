import { processWide } from '../process-state.js';
import { RecentCache } from '../time/recent-cache.js';
import type { CronFields } from '../time/cron-fields.js';
import { firesAlikeInEveryZone } from '../time/zone-independence.js';
import type { Logger, TaskOptions } from '../types.js';

// Names already warned about, by any copy of fleetcron in the process. Bounded for apps that schedule distributed
// tasks per tenant all day: a name forgotten after about a thousand others may be warned about again.
const warned = processWide('zone-warnings', () => new RecentCache<string, true>(512));

/**
 * Warns, once per task name, about a distributed task without `timezone` whose slots depend on the zone that reads
 * it: replicas in different zones would plan different instants for one fire, and each would run it.
 */
export function warnIfZoneUnset(expression: string, fields: CronFields, options: TaskOptions, logger: Logger): void {
  const name = options.name;
  if (!options.distributed || options.timezone !== undefined || name === undefined) return;
  if (warned.get(name) !== undefined || firesAlikeInEveryZone(fields)) return;
  warned.set(name, true);
  const zone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
  logger.warn(
    `distributed task "${name}" has no \`timezone\`: this process reads '${expression}' in ${zone}, and a replica ` +
      `in another zone would plan other instants, so each would run the same fire. Set \`timezone: '${zone}'\` ` +
      `(or 'UTC') on every replica.`,
  );
}
