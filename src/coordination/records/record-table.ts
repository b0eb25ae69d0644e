import { TRIGGER_KEEP_MS, type ClaimAnswer, type ClaimRequest, type TaskState, type Trigger } from './backend.js';
import { DEFAULT_HISTORY_LIMIT, type FireOutcome, type FireRecord, type HistoryOptions, type Holder } from './fire-record.js';

/** What an in-memory table keeps: per task, and in all. */
export interface RecordTableLimits {
  /** Records kept per task, newest; default 100. */
  perTask?: number;
  /** Records kept in all, across tasks; default 100 000. */
  total?: number;
  /** No record older than this (ms since its claim); default one day. */
  maxAgeMs?: number;
}

interface Stored extends FireRecord {
  claimId: string;
}

interface TaskRecords {
  lastToken: number;
  paused: boolean;
  /** Won claims, for `fleetMax`. */
  runs: number;
  /** By slot, in claim order. */
  readonly bySlot: Map<number, Stored>;
  /** Slots still `running`, for the lost-fire check of each claim. */
  readonly running: Set<number>;
  /** The slot of the fire waiting (`buffered`) for the running one to end, if any. */
  buffered?: number;
}

/**
 * Fire records in memory — the claim table of a host authority without a shared backend, and the model every
 * backend follows. Pure: time is passed in. A record is dropped only once its lease has passed (oldest first, by
 * the limits), so a fire is never claimed twice while a process could still reach it.
 */
export class RecordTable {
  private readonly tasks = new Map<string, TaskRecords>();
  /** Every record, oldest claim first, for the limit in all. */
  private readonly order = new Map<string, Stored>();
  /** Pending triggers by `${slot}\u001f${task}`: one per task and millisecond. */
  private readonly pending = new Map<string, Trigger>();
  private readonly perTask: number;
  private readonly total: number;
  private readonly maxAgeMs: number;

  constructor(limits: RecordTableLimits = {}) {
    this.perTask = limits.perTask ?? 100;
    this.total = limits.total ?? 100_000;
    this.maxAgeMs = limits.maxAgeMs ?? 24 * 3600_000;
  }

  get size(): number {
    return this.order.size;
  }

  claim(request: ClaimRequest, now: number): ClaimAnswer {
    const records = this.recordsOf(request.task);
    const lost = this.lapsed(records, now);
    const held = records.bySlot.get(request.slot);
    if (held) {
      if (held.state === 'buffered' && sameClaimant(held.holder, request.holder)) return this.waitOrRun(records, held, request, now, lost);
      if (held.claimId !== request.claimId) return { won: false, holder: held.holder, lost };
      if (held.state !== 'skipped') return { won: true, fencingToken: held.fencingToken, runs: records.runs, lost };
      return { won: false, holder: undefined, lost, refused: held.error!.name === 'Paused' ? 'paused' : 'overlap' };
    }
    if (records.paused) {
      this.add(records, request, now, { name: 'Paused', message: 'the task was paused' });
      return { won: false, holder: undefined, lost, refused: 'paused' };
    }
    if (request.fleetMax !== undefined && records.runs >= request.fleetMax) return { won: false, holder: undefined, lost, refused: 'limit' };
    if (request.overlap) {
      const running = this.stillRunning(records);
      const waiting = this.waitingRecord(records);
      if (running && request.overlap === 'buffer-one' && !waiting) {
        this.add(records, request, now, undefined, true);
        return { won: false, holder: running.holder, lost, refused: 'buffered' };
      }
      const before = running ?? waiting;
      if (before) {
        const why = running ? 'was still running' : 'was waiting for the run before it';
        this.add(records, request, now, { name: 'Overlap', message: `fire ${new Date(before.slot).toISOString()} of the task ${why}` });
        return { won: false, holder: before.holder, lost, refused: 'overlap' };
      }
    }
    const record = this.add(records, request, now);
    records.runs++;
    return { won: true, fencingToken: record.fencingToken, runs: records.runs, lost };
  }

  /** The claimant of a buffered fire asks again: it waits on (its lease renewed) while a fire runs, else it runs. */
  private waitOrRun(records: TaskRecords, held: Stored, request: ClaimRequest, now: number, lost: FireRecord[]): ClaimAnswer {
    held.leaseUntil = now + request.leaseMs;
    held.claimId = request.claimId;
    const running = this.stillRunning(records);
    if (running) return { won: false, holder: running.holder, lost, refused: 'buffered' };
    held.state = 'running';
    held.holder = request.holder;
    held.fencingToken = ++records.lastToken;
    records.buffered = undefined;
    records.running.add(held.slot);
    records.runs++;
    return { won: true, fencingToken: held.fencingToken, runs: records.runs, lost };
  }

  pause(task: string, paused: boolean): void {
    this.recordsOf(task).paused = paused;
  }

  taskState(task: string): TaskState {
    const records = this.tasks.get(task);
    return { paused: records?.paused ?? false, runs: records?.runs ?? 0 };
  }

  renew(task: string, slot: number, fencingToken: number, leaseMs: number, now: number): boolean {
    const record = this.tasks.get(task)?.bySlot.get(slot);
    if (!record || record.state !== 'running' || record.fencingToken !== fencingToken || record.leaseUntil < now) return false;
    record.leaseUntil = now + leaseMs;
    return true;
  }

  end(task: string, slot: number, fencingToken: number, outcome: FireOutcome, now: number): boolean {
    const records = this.tasks.get(task);
    const record = records?.bySlot.get(slot);
    if (!records || !record || record.fencingToken !== fencingToken) return false;
    records.running.delete(slot);
    record.state = outcome.state;
    record.endedAt = outcome.endedAt;
    record.leaseUntil = Math.min(record.leaseUntil, now);
    delete record.error;
    if (outcome.state === 'lost') {
      record.error = { name: 'LostFire', message: outcome.cause };
    } else {
      record.startedAt = outcome.startedAt;
      record.durationMs = outcome.endedAt - outcome.startedAt;
      if (outcome.state === 'failed') record.error = { ...outcome.error };
    }
    return true;
  }

  /** Records a trigger of the task at `now` (bumped off a whole second); drops those past TRIGGER_KEEP_MS. */
  trigger(task: string, now: number): number {
    const slot = triggerSlot(now);
    for (const [key, kept] of this.pending) if (kept.slot < now - TRIGGER_KEEP_MS) this.pending.delete(key);
    this.pending.set(`${slot}\u001f${task}`, { task, slot });
    return slot;
  }

  /** The triggers after `since` still kept at `now`, oldest slot first, ties by task. */
  triggers(since: number, now: number): Trigger[] {
    return [...this.pending.values()]
      .filter(({ slot }) => slot > since && slot >= now - TRIGGER_KEEP_MS)
      .sort((a, b) => a.slot - b.slot || (a.task < b.task ? -1 : a.task > b.task ? 1 : 0))
      .map((kept) => ({ ...kept }));
  }

  history(task: string, { limit = DEFAULT_HISTORY_LIMIT }: HistoryOptions = {}): FireRecord[] {
    const records = this.tasks.get(task);
    if (!records || limit <= 0) return [];
    return [...records.bySlot.values()].sort((a, b) => b.slot - a.slot).slice(0, limit).map(publicRecord);
  }

  private recordsOf(task: string): TaskRecords {
    let records = this.tasks.get(task);
    if (!records) this.tasks.set(task, (records = { lastToken: 0, paused: false, runs: 0, bySlot: new Map(), running: new Set() }));
    return records;
  }

  /**
   * The fire's record: `running` under the claim's lease, `buffered` (waiting) under it too, or `skipped` (ended
   * now) when a policy refused it, with that error.
   */
  private add(records: TaskRecords, request: ClaimRequest, now: number, skipped?: { name: string; message: string }, buffered = false): Stored {
    const record: Stored = {
      task: request.task,
      slot: request.slot,
      state: skipped ? 'skipped' : buffered ? 'buffered' : 'running',
      holder: request.holder,
      fencingToken: ++records.lastToken,
      claimedAt: now,
      leaseUntil: skipped ? now : now + request.leaseMs,
      claimId: request.claimId,
    };
    if (skipped) {
      record.endedAt = now;
      record.error = skipped;
    } else if (buffered) {
      records.buffered = request.slot;
    } else {
      records.running.add(request.slot);
    }
    records.bySlot.set(request.slot, record);
    this.order.set(orderKey(record), record);
    this.prune(records, now);
    return record;
  }

  /** The task's buffered record, waiting for the run before it, if any. */
  private waitingRecord(records: TaskRecords): Stored | undefined {
    return records.buffered === undefined ? undefined : records.bySlot.get(records.buffered);
  }

  /** A running record of the task (its lease not passed: `lapsed` ran first). */
  private stillRunning(records: TaskRecords): Stored | undefined {
    for (const slot of records.running) return records.bySlot.get(slot);
    return undefined;
  }

  /** Marks the task's running (or waiting) records whose lease has passed as lost; returns them (each once). */
  private lapsed(records: TaskRecords, now: number): FireRecord[] {
    const lost: FireRecord[] = [];
    const waiting = this.waitingRecord(records);
    if (waiting && waiting.leaseUntil < now) {
      records.buffered = undefined;
      waiting.state = 'lost';
      waiting.error = { name: 'LostFire', message: `it waited for the run before it, and its holder stopped asking at ${new Date(waiting.leaseUntil).toISOString()}` };
      lost.push(publicRecord(waiting));
    }
    for (const slot of records.running) {
      const record = records.bySlot.get(slot)!;
      if (record.leaseUntil >= now) continue;
      records.running.delete(slot);
      record.state = 'lost';
      record.error = { name: 'LostFire', message: `its lease ended at ${new Date(record.leaseUntil).toISOString()} without an end from its holder` };
      lost.push(publicRecord(record));
    }
    return lost;
  }

  /** Drops records past the limits, oldest first, none whose lease has not passed. */
  private prune(records: TaskRecords, now: number): void {
    for (const record of records.bySlot.values()) {
      if (records.bySlot.size <= this.perTask && record.claimedAt >= now - this.maxAgeMs) break;
      if (record.leaseUntil >= now) break;
      this.drop(record);
    }
    for (const record of this.order.values()) {
      if (this.order.size <= this.total && record.claimedAt >= now - this.maxAgeMs) break;
      if (record.leaseUntil >= now) break;
      this.drop(record);
    }
  }

  private drop(record: Stored): void {
    const records = this.tasks.get(record.task)!;
    records.bySlot.delete(record.slot);
    records.running.delete(record.slot);
    this.order.delete(orderKey(record));
  }
}

/** A schedule fires on whole seconds only: a trigger then is moved a millisecond later, so it is never one of them. */
function triggerSlot(now: number): number {
  const ms = Math.floor(now);
  return ms % 1000 === 0 ? ms + 1 : ms;
}

/** The same authority incarnation on the same host: the one that was told its fire waits. */
function sameClaimant(a: Holder, b: Holder): boolean {
  return a.host === b.host && a.incarnation === b.incarnation;
}

function orderKey(record: FireRecord): string {
  return `${record.task}\u001f${record.slot}`;
}

function publicRecord({ claimId: _claimId, ...record }: Stored): FireRecord {
  return { ...record, holder: { ...record.holder }, ...(record.error ? { error: { ...record.error } } : {}) };
}
