import { globalLogger } from '../logger.js';
import type { RunCoordinator } from '../types.js';
import type { Authority } from './authority.js';
import { AuthorityClient } from './client.js';
import { slotOfKey } from './protocol.js';
import { detectTopology } from './topology.js';

let own: Authority | undefined;
let client: AuthorityClient | undefined;

/** Marks this process as its host's authority (serveCluster, servePm2), or not any more. */
export function setOwnAuthority(authority: Authority | undefined): void {
  own = authority;
}

/** Throws when this process already serves elections: two authorities in one process would both answer. */
export function assertNotServing(where: string): void {
  if (own) throw new Error(`fleetcron: ${where}: this process already serves elections; close() the handle of the first serveCluster()/servePm2() before serving again`);
}

/** Routes the elections of tasks living in the authority process itself, without IPC. */
const inProcess: RunCoordinator = {
  async shouldRun(key, ttlMs) {
    if (!own) throw new Error('this process stopped serving elections');
    const verdict = await own.elect({ key, ttlMs, slot: slotOfKey(key) });
    if ('error' in verdict) throw new Error(verdict.error);
    return verdict.elected;
  },
  async onComplete(key) {
    const failure = await own?.complete({ key });
    if (failure !== undefined) throw failure;
  },
};

/**
 * The coordinator a distributed task gets from its host: the authority itself when this process serves, the
 * IPC client when an authority sits above it, undefined when the process stands alone.
 */
export function hostCoordinator(): RunCoordinator | undefined {
  if (own) return inProcess;
  if (client) return client;
  const topology = detectTopology();
  if (topology.kind === 'standalone') return undefined;
  client = new AuthorityClient(process, {
    verified: topology.verified,
    missing: topology.missing,
    logger: globalLogger,
  });
  return client;
}
