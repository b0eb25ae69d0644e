import { hostName, randomUUID } from '../builtins.js';
import { nameOfKey, slotOfKey } from '../ipc/protocol.js';
import { ClaimTable } from './claim-table.js';
import type { ClaimAnswer, ClaimRequest, FireBackend, FireEnd, TaskState, Trigger } from './records/backend.js';
import type { FireRecord, Holder, HistoryOptions } from './records/fire-record.js';
import { RecordTable, type RecordTableLimits } from './records/record-table.js';
import { markProcessLocal } from './process-local.js';

export interface MemoryRunCoordinatorOptions extends RecordTableLimits {
  /** The clock, default `Date.now`; for tests. */
  now?: () => number;
}

/**
 * Elects one winner per fire among everything that shares this object — the tasks of one process, or, held by a
 * host authority, every worker of a host — and keeps each fire's record (bounded), so `history()` tells what ran.
 * A claim outlives its run: a fire that has a record is not claimed again.
 */
export class MemoryRunCoordinator implements FireBackend {
  private readonly table: RecordTable;
  private readonly plain = new ClaimTable();
  private readonly now: () => number;
  private holder: Holder | undefined;
  private claims = 0;

  constructor(options: MemoryRunCoordinatorOptions | (() => number) = {}) {
    const settings = typeof options === 'function' ? { now: options } : options;
    this.now = settings.now ?? (() => Date.now());
    this.table = new RecordTable(settings);
    markProcessLocal(this, 'memory');
  }

  /** A fire's key (`${name}:${ISO}`) is claimed and recorded; any other key is held for its lease only. */
  shouldRun(key: string, ttlMs: number): boolean {
    const slot = slotOfKey(key);
    if (slot === undefined) return this.plain.claim(key, ttlMs, this.now(), () => true).won;
    this.holder ??= { host: hostName(), pid: process.pid, incarnation: randomUUID() };
    return this.table.claim({ task: nameOfKey(key), slot, leaseMs: ttlMs, holder: this.holder, claimId: String(++this.claims) }, this.now()).won;
  }

  async claim(requests: readonly ClaimRequest[]): Promise<ClaimAnswer[]> {
    const now = this.now();
    return requests.map((request) => this.table.claim(request, now));
  }

  async renew(task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
    return this.table.renew(task, slot, fencingToken, leaseMs, this.now());
  }

  async end(ends: readonly FireEnd[]): Promise<boolean[]> {
    const now = this.now();
    return ends.map(({ task, slot, fencingToken, outcome }) => this.table.end(task, slot, fencingToken, outcome, now));
  }

  async history(task: string, options?: HistoryOptions): Promise<FireRecord[]> {
    return this.table.history(task, options);
  }

  async pause(task: string): Promise<void> {
    this.table.pause(task, true);
  }

  async resume(task: string): Promise<void> {
    this.table.pause(task, false);
  }

  async taskState(task: string): Promise<TaskState> {
    return this.table.taskState(task);
  }

  async trigger(task: string): Promise<number> {
    return this.table.trigger(task, this.now());
  }

  async triggers(since: number): Promise<Trigger[]> {
    return this.table.triggers(since, this.now());
  }
}
