import type { FireAsk, TrackingCoordinator } from '../coordination/tracking.js';
import { globalLogger } from '../logger.js';
import { processWide } from '../process-state.js';
import { getTasks } from '../tasks/registry.js';
import type { RunCoordinator, ScheduledTask } from '../types.js';
import type { Authority, Peer } from './authority.js';
import { AuthorityClient } from './client.js';
import { nameOfKey, slotOfKey } from './protocol.js';
import { detectTopology, type Topology } from './topology.js';

/** This process's authority, when it serves elections, and the client of the authority above it, once asked for. */
const host = processWide('host', (): { own?: { authority: Authority; scope: string }; client?: AuthorityClient } => ({}));

/**
 * Marks this process as its host's authority (serveCluster, servePm2), or not any more. `scope` is the one its
 * remote requesters are scoped by when they share the process's identity (a PM2 app serving its own instances),
 * so the process's own tasks and theirs elect as one.
 */
export function setOwnAuthority(authority: Authority | undefined, scope = ''): void {
  host.own = authority && { authority, scope };
}

/** Throws when this process already serves elections: two authorities in one process would both answer. */
export function assertNotServing(where: string): void {
  if (host.own) throw new Error(`fleetcron: ${where}: this process already serves elections; close() the handle of the first serveCluster()/servePm2() before serving again`);
}

/** A task that can say a fire it lost ran nowhere after all (`execution:lost`). */
interface ReportsLost {
  readonly name: string;
  reportLost(slot: number, cause: string, ran: boolean): void;
}

/** Tells this process's tasks named in `key` that the fire ran nowhere. */
export function reportLost(key: string, cause: string, ran = false): void {
  const slot = slotOfKey(key);
  if (slot === undefined) return;
  const name = nameOfKey(key);
  for (const task of getTasks().values()) if (reportsLost(task) && task.name === name) task.reportLost(slot, cause, ran);
}

function reportsLost(task: ScheduledTask): task is ScheduledTask & ReportsLost {
  return typeof (task as Partial<ReportsLost>).reportLost === 'function';
}

/** The tasks living in the authority process itself, as the authority knows them. */
const self: Peer = { id: `this process (pid ${process.pid})`, notify: (notice) => reportLost(notice.key, notice.cause, notice.ran === true) };

/** Routes the elections of tasks living in the authority process itself, without IPC. */
const inProcess: TrackingCoordinator = {
  async shouldRun(key: string, ttlMs: number, fire: FireAsk = {}) {
    const { own } = host;
    if (!own) throw new Error('this process stopped serving elections');
    const verdict = await own.authority.elect({ key, ttlMs, slot: fire.slot ?? slotOfKey(key), deadline: fire.deadline, waitMs: fire.waitMs }, self, own.scope);
    if ('error' in verdict) throw new Error(verdict.error);
    return verdict.elected;
  },
  started(key) {
    host.own?.authority.started(key, self, host.own.scope);
  },
  async release(key, cause) {
    const { own } = host;
    return own ? own.authority.release(key, cause, self, own.scope) : false;
  },
  async onComplete(key) {
    const { own } = host;
    const failure = await own?.authority.complete(key, self, own.scope);
    if (failure !== undefined) throw failure;
  },
};

/**
 * The coordinator a distributed task gets from its host: the authority itself when this process serves, the
 * IPC client when an authority sits above it, undefined when the process stands alone — or when its parent never
 * identified itself as an authority (a cluster primary that did not call serveCluster() before forking, a PM2
 * instance) and this process set a coordinator of its own (`own`), which then serves it as it would under node-cron.
 */
export function hostCoordinator(processWide?: RunCoordinator): RunCoordinator | undefined {
  if (host.own) return inProcess;
  return authorityAbove(processWide);
}

/** The authority above this process, for a process that serves elections itself (hop by hop). */
export function authorityAbove(processWide?: RunCoordinator, topology: Topology = detectTopology()): AuthorityClient | undefined {
  if (host.client) return host.client;
  if (topology.kind === 'standalone' || (processWide && !topology.verified)) return undefined;
  host.client = new AuthorityClient(process, {
    verified: topology.verified,
    missing: topology.missing,
    logger: globalLogger,
    onLost: reportLost,
  });
  return host.client;
}
