import type { ClaimAnswer, ClaimRequest, FireEnd, Refusal, TaskState, Trigger } from '../records/backend.js';
import type { FireRecord, RetentionOptions } from '../records/fire-record.js';
import type { RedisCommands } from './client.js';
import { CLAIM, END, HISTORY, PAUSE, RENEW, TASK_KEYS, TASK_STATE, TRIGGER, TRIGGERS, TRIGGERS_KEY } from './records-lua.js';
import { checkReplicas, waitCommands, type WaitForReplicasOptions } from './replica-wait.js';

/** A record as the scripts store it: without its task (the key says it), with the id of the claim that won it. */
interface StoredRecord extends Omit<FireRecord, 'task'> {
  claimId: string;
}

type TaskKey = (typeof TASK_KEYS)[number];

function taskKeys(prefix: string, task: string): Record<TaskKey, string> {
  const base = `${prefix}{${task}}:`;
  return Object.fromEntries(TASK_KEYS.map((name) => [name, base + name])) as Record<TaskKey, string>;
}

/**
 * Claims `requests` with one script call; on a Redis Cluster client, one call per task of the batch (a script's keys
 * must share a slot), sent at once. Answers in the order asked. With `replicas`, each call is followed by its WAIT,
 * and when a call won a fire that fewer replicas acknowledged, the whole claim rejects.
 */
export async function claimFires(
  redis: RedisCommands,
  prefix: string,
  requests: readonly ClaimRequest[],
  retention: Required<RetentionOptions>,
  replicas: WaitForReplicasOptions | undefined,
): Promise<ClaimAnswer[]> {
  return inTaskGroups(redis, requests, (batch) => claimBatch(redis, prefix, batch, retention, replicas));
}

/**
 * Runs `call` on the whole batch, or on a Redis Cluster client once per task of it (a script's keys must share a
 * slot), all at once; answers in the order of `items`.
 */
async function inTaskGroups<T extends { task: string }, A>(redis: RedisCommands, items: readonly T[], call: (batch: T[]) => Promise<A[]>): Promise<A[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, index) => {
    const key = redis.cluster ? item.task : '';
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const answers: A[] = [];
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const replies = await call(group.map((index) => items[index]!));
      group.forEach((index, i) => (answers[index] = replies[i]!));
    }),
  );
  return answers;
}

/**
 * The KEYS of a batch script: the TASK_KEYS of each of its tasks, in the order first met; `numberOf(task)` is the
 * task's 1-based number among them, as the scripts' arguments refer to it (adding its keys the first time).
 */
function taskNumbering(prefix: string): { keys: string[]; numberOf(task: string): string } {
  const numbers = new Map<string, number>();
  const keys: string[] = [];
  return {
    keys,
    numberOf(task) {
      let number = numbers.get(task);
      if (number === undefined) {
        numbers.set(task, (number = numbers.size + 1));
        const ofTask = taskKeys(prefix, task);
        keys.push(...TASK_KEYS.map((name) => ofTask[name]));
      }
      return String(number);
    },
  };
}

async function claimBatch(
  redis: RedisCommands,
  prefix: string,
  batch: readonly ClaimRequest[],
  { perTask, maxAgeMs }: Required<RetentionOptions>,
  replicas: WaitForReplicasOptions | undefined,
): Promise<ClaimAnswer[]> {
  const { keys, numberOf } = taskNumbering(prefix);
  const args = [String(perTask), String(maxAgeMs)];
  for (const { task, slot, leaseMs, holder, claimId, overlap, fleetMax } of batch) {
    args.push(numberOf(task), String(slot), String(leaseMs), holder.host, String(holder.pid), holder.incarnation, claimId, overlap ?? '', fleetMax === undefined ? '' : String(fleetMax));
  }
  const [reply, acknowledged] = await CLAIM.run(redis, keys, args, waitCommands(replicas));
  const answers = asArray(reply).map((answer, i) => parseAnswer(batch[i]!.task, answer));
  const won = batch.filter((_, i) => answers[i]!.won);
  if (won.length > 0) {
    const more = won.length > 1 ? ` (and ${won.length - 1} more fires of its batch)` : '';
    checkReplicas(replicas, acknowledged, `${won[0]!.task}:${new Date(won[0]!.slot).toISOString()}${more}`);
  }
  return answers;
}

export async function renewFire(redis: RedisCommands, prefix: string, task: string, slot: number, fencingToken: number, leaseMs: number): Promise<boolean> {
  const { records, running } = taskKeys(prefix, task);
  const [reply] = await RENEW.run(redis, [records, running], [String(slot), String(fencingToken), String(leaseMs)]);
  return Number(reply) === 1;
}

/** Writes how each fire ended: one script call, or on a Redis Cluster client one per task, sent at once. */
export async function endFires(redis: RedisCommands, prefix: string, ends: readonly FireEnd[]): Promise<boolean[]> {
  return inTaskGroups(redis, ends, async (batch) => {
    const { keys, numberOf } = taskNumbering(prefix);
    const args: string[] = [];
    for (const { task, slot, fencingToken, outcome } of batch) {
      const details =
        outcome.state === 'lost'
          ? [outcome.cause, '', '']
          : [String(outcome.startedAt), ...(outcome.state === 'failed' ? [outcome.error.name, outcome.error.message] : ['', ''])];
      args.push(numberOf(task), String(slot), String(fencingToken), outcome.state, String(outcome.endedAt), ...details);
    }
    const [reply] = await END.run(redis, keys, args);
    return asArray(reply).map((written) => Number(written) === 1);
  });
}

/** The task's latest `limit` records (`Infinity`: all it keeps), newest slot first. */
export async function readHistory(redis: RedisCommands, prefix: string, task: string, limit: number): Promise<FireRecord[]> {
  if (!(limit >= 1)) return [];
  const { records, slots } = taskKeys(prefix, task);
  const [reply] = await HISTORY.run(redis, [records, slots], [String(Number.isFinite(limit) ? Math.floor(limit) - 1 : -1)]);
  return asArray(reply).map((raw) => parseRecord(task, raw));
}

export async function setPaused(redis: RedisCommands, prefix: string, task: string, paused: boolean): Promise<void> {
  await PAUSE.run(redis, [taskKeys(prefix, task).paused], [paused ? '1' : '0']);
}

export async function readTaskState(redis: RedisCommands, prefix: string, task: string): Promise<TaskState> {
  const { paused, runs } = taskKeys(prefix, task);
  const [reply] = await TASK_STATE.run(redis, [paused, runs], []);
  const [isPaused, count] = asArray(reply);
  return { paused: Number(isPaused) === 1, runs: Number(count) };
}

export async function addTrigger(redis: RedisCommands, prefix: string, task: string): Promise<number> {
  const [slot] = await TRIGGER.run(redis, [prefix + TRIGGERS_KEY], [task]);
  return Number(slot);
}

export async function readTriggers(redis: RedisCommands, prefix: string, since: number): Promise<Trigger[]> {
  const [reply] = await TRIGGERS.run(redis, [prefix + TRIGGERS_KEY], [scoreAfter(since)]);
  return asArray(reply).map((member) => {
    const raw = String(member);
    const cut = raw.indexOf('\u001f');
    return { task: raw.slice(cut + 1), slot: Number(raw.slice(0, cut)) };
  });
}

/** `since` as Redis reads a score: infinities by name, NaN as +inf (no slot is after it, as in memory). */
function scoreAfter(since: number): string {
  if (Number.isFinite(since)) return String(since);
  return since === -Infinity ? '-inf' : '+inf';
}

function parseAnswer(task: string, reply: unknown): ClaimAnswer {
  const [won, tokenOrHolding, runsOrRefusal, ...lapsed] = asArray(reply);
  const lost = lapsed.map((raw) => parseRecord(task, raw));
  if (Number(won) === 1) return { won: true, fencingToken: Number(tokenOrHolding), runs: Number(runsOrRefusal), lost };
  const holder = tokenOrHolding === '' ? undefined : parseRecord(task, tokenOrHolding).holder;
  return typeof runsOrRefusal === 'string' && runsOrRefusal !== '' ? { won: false, holder, lost, refused: runsOrRefusal as Refusal } : { won: false, holder, lost };
}

function parseRecord(task: string, raw: unknown): FireRecord {
  const { claimId: _claimId, ...record } = JSON.parse(String(raw)) as StoredRecord;
  return { task, ...record };
}

function asArray(reply: unknown): unknown[] {
  if (Array.isArray(reply)) return reply;
  throw new TypeError(`RedisLockCoordinator: unexpected reply from a records script: ${String(reply)}`);
}
