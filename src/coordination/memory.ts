import type { RunCoordinator } from '../types.js';
import { ClaimTable } from './claim-table.js';
import { markProcessLocal } from './process-local.js';

/**
 * Elects one winner per fire among everything that shares this object: the tasks of one process, or, held by a
 * host authority, every worker of a host. A claim outlives its run and expires with its lease.
 */
export class MemoryRunCoordinator implements RunCoordinator {
  private readonly table = new ClaimTable();

  constructor(private readonly now: () => number = () => Date.now()) {
    markProcessLocal(this, 'memory');
  }

  shouldRun(key: string, ttlMs: number): boolean {
    return this.table.claim(key, ttlMs, this.now(), () => true).won;
  }
}
