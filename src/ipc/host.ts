import type { FireBackend } from '../coordination/records/backend.js';
import type { TrackingCoordinator } from '../coordination/tracking.js';
import { globalLogger } from '../logger.js';
import { processWide } from '../process-state.js';
import { getTasks } from '../tasks/registry.js';
import type { RunCoordinator, ScheduledTask } from '../types.js';
import { Authority, type Peer } from './authority.js';
import { AuthorityClient } from './client.js';
import { InProcessRoute, type LocalAuthority } from './in-process.js';
import { nameOfKey, type Notice } from './protocol.js';
import { detectTopology, type Topology } from './topology.js';

/** This process's authority, when it serves elections, and the client of the authority above it, once asked for. */
const host = processWide('host', (): { own?: LocalAuthority; client?: AuthorityClient } => ({}));

/**
 * Marks this process as its host's authority (serveCluster, servePm2), or not any more. `scope` is the one its
 * remote requesters are scoped by when they share the process's identity (a PM2 app serving its own instances),
 * so the process's own tasks and theirs elect as one.
 */
export function setOwnAuthority(authority: Authority | undefined, scope = ''): void {
  host.own = authority && { authority, scope };
  // This process's tasks that hear triggers heard them from the previous authority, if any.
  inProcess.resubscribe();
}

/** Throws when this process already serves elections: two authorities in one process would both answer. */
export function assertNotServing(where: string): void {
  if (host.own) throw new Error(`fleetcron: ${where}: this process already serves elections; close() the handle of the first serveCluster()/servePm2() before serving again`);
}

/** A task that hears what its authority says about its fires: one ran nowhere, a run lost its claim, a trigger. */
interface HearsNotices {
  readonly name: string;
  hear(notice: Notice, via?: TrackingCoordinator): void;
}

/** Passes a notice that came through coordinator `via` to this process's tasks named in its key. */
export function deliverNotice(notice: Notice, via?: TrackingCoordinator): void {
  const name = nameOfKey(notice.key);
  for (const task of getTasks().values()) if (hearsNotices(task) && task.name === name) task.hear(notice, via);
}

function hearsNotices(task: ScheduledTask): task is ScheduledTask & HearsNotices {
  return typeof (task as Partial<HearsNotices>).hear === 'function';
}

/** A route to an authority in this process; its tasks are a peer of that authority, told what comes through it. */
function inProcessRoute(local: () => LocalAuthority | undefined): InProcessRoute {
  const self: Peer = {
    id: `this process (pid ${process.pid})`,
    pid: process.pid,
    notify: (notice) => {
      deliverNotice(notice, route);
      if (notice.kind === 'trigger') route.relay(notice.key);
    },
  };
  const route = new InProcessRoute(local, self);
  return route;
}

const inProcess = inProcessRoute(() => host.own);

/** The route of each FireBackend used outside a host authority, through an authority of its own in this process. */
const followed = processWide('followed-backends', () => new WeakMap<FireBackend, InProcessRoute>());

/**
 * A FireBackend a task uses directly (its own `runCoordinator`, or the process-wide one of a process without a host
 * authority) is followed fire by fire like a host's: its claims are ended with their outcome, lost ones reported.
 */
export function followedHere(backend: FireBackend): TrackingCoordinator {
  let route = followed.get(backend);
  if (!route) {
    const local: LocalAuthority = { authority: new Authority({ upstream: backend }), scope: '' };
    followed.set(backend, (route = inProcessRoute(() => local)));
  }
  return route;
}

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
    onNotice: (notice) => deliverNotice(notice, host.client),
  });
  return host.client;
}
