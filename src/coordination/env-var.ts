import type { RunCoordinator } from '../types.js';
import { markProcessLocal } from './process-local.js';

/**
 * The designated-runner coordinator, node-cron's default: the process whose `NODE_CRON_RUN` is `'true'` runs
 * every fire, those with `'false'` skip. Any other value throws at construction (so at schedule time) and,
 * since the variable is re-read at each fire, a value that later goes bad skips fires as `coordinator-error`.
 */
export class EnvVarRunCoordinator implements RunCoordinator {
  constructor(readonly envName = 'NODE_CRON_RUN') {
    this.read();
    markProcessLocal(this, 'env-var');
  }

  shouldRun(): boolean {
    return this.read();
  }

  private read(): boolean {
    const value = process.env[this.envName];
    if (value !== 'true' && value !== 'false') {
      const got = value === undefined ? 'it is not set' : `got '${value}'`;
      throw new Error(
        `fleetcron: a \`distributed\` task needs ${this.envName} set to 'true' or 'false' (${got}). ` +
          `Set it to 'true' on exactly one instance and 'false' on the others, or choose how fires are elected: ` +
          'a per-task `runCoordinator`; cron.setRunCoordinator(...) with a MemoryRunCoordinator (one process) or a ' +
          "RedisLockCoordinator from 'fleetcron/redis' (several hosts); or a host authority (serveCluster() in the " +
          'node:cluster primary, the fleetcron arbiter under PM2).',
      );
    }
    return value === 'true';
  }
}
