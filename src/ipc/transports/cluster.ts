import type { Worker } from 'node:cluster';
import { nodeCluster } from '../../builtins.js';
import { getRunCoordinator } from '../../coordination/default.js';
import { EnvVarRunCoordinator } from '../../coordination/env-var.js';
import { processLocalKind } from '../../coordination/process-local.js';
import { globalLogger } from '../../logger.js';
import type { Logger, RunCoordinator } from '../../types.js';
import { Authority, type Peer } from '../authority.js';
import { assertNotServing, authorityAbove, setOwnAuthority } from '../host.js';
import { envelope, openEnvelope } from '../protocol.js';
import { AUTHORITY_MARKER } from '../topology.js';

export interface ServeOptions {
  /**
   * Upstream coordinator. Default: the authority above this process when there is one (a PM2 instance's arbiter),
   * else the one set with setRunCoordinator, else the env-var runner when NODE_CRON_RUN is set, else host-local
   * election.
   */
  coordinator?: RunCoordinator;
  /** Bound on each upstream call, in ms (default 5000). */
  electionTimeoutMs?: number;
  logger?: Logger;
}

export interface AuthorityHandle {
  readonly authority: Authority;
  close(): void;
}

/**
 * The upstream an authority uses when none is given, announced once in its log. `hopUp`: the authority above
 * this process comes first (a node:cluster primary that is itself a PM2 instance asks the arbiter); never for the
 * PM2 arbiter itself, whose parent is the PM2 daemon it serves.
 */
export function defaultUpstream(options: ServeOptions, logger: Logger, where: string, hopUp: boolean): RunCoordinator | undefined {
  const processWide = getRunCoordinator();
  const above = hopUp ? authorityAbove(processWide) : undefined;
  const upstream = options.coordinator ?? above ?? processWide ?? (process.env.NODE_CRON_RUN !== undefined ? new EnvVarRunCoordinator() : undefined);
  if (upstream && upstream === above) logger.info(`${where}: elections go on to the authority above this process`);
  else if (!upstream) logger.info(`${where}: no upstream coordinator; electing host-locally (one run per fire on this host)`);
  else if (processLocalKind(upstream) === 'env-var') logger.info(`${where}: this host is the designated runner only when NODE_CRON_RUN=true (now '${process.env.NODE_CRON_RUN}')`);
  return upstream;
}

/**
 * Makes this node:cluster primary the election authority of all its workers, present and future. Tasks of the
 * primary itself are elected by the same authority. A worker that exits or cannot be answered gives up the fires
 * it held, so another worker runs them.
 */
export function serveCluster(options: ServeOptions = {}): AuthorityHandle {
  const cluster = nodeCluster();
  if (!cluster.isPrimary) throw new Error('fleetcron: serveCluster() must be called in the node:cluster primary');
  assertNotServing('serveCluster()');
  const logger = options.logger ?? globalLogger;
  const authority = new Authority({
    upstream: defaultUpstream(options, logger, 'serveCluster()', true),
    electionTimeoutMs: options.electionTimeoutMs,
    logger,
  });
  const peers = new WeakMap<Worker, Peer>();
  const peerOf = (worker: Worker): Peer => {
    let peer = peers.get(worker);
    if (!peer) {
      peer = { id: `worker ${worker.id} (pid ${worker.process.pid})`, pid: worker.process.pid, notify: (notice) => send(worker, notice) };
      peers.set(worker, peer);
    }
    return peer;
  };
  const send = (worker: Worker, data: Parameters<typeof envelope>[0], onFailure?: (cause: string) => void): void => {
    // A worker can die between request and reply; sending to it must not crash the primary.
    if (!worker.isConnected()) return onFailure?.('disconnected before its answer could be sent');
    worker.send(envelope(data), undefined, (error) => {
      if (error) onFailure?.(`could not be answered (${error.message})`);
    });
  };
  const onMessage = (worker: Worker, message: unknown): void => {
    const data = openEnvelope(message);
    if (!data) return;
    const peer = peerOf(worker);
    authority.handle(data, peer).then(
      (reply) => reply && send(worker, reply, (cause) => authority.peerGone(peer.id, cause)),
      (error: unknown) => logger.error(`serveCluster(): could not decide a request of worker ${worker.id}`, error),
    );
  };
  const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
    authority.peerGone(peerOf(worker).id, signal ? `was killed by ${signal}` : `exited with code ${code}`);
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  const previousMarker = process.env[AUTHORITY_MARKER];
  process.env[AUTHORITY_MARKER] = `cluster:${process.pid}`;
  setOwnAuthority(authority);
  return {
    authority,
    close() {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      authority.close();
      if (previousMarker === undefined) delete process.env[AUTHORITY_MARKER];
      else process.env[AUTHORITY_MARKER] = previousMarker;
      setOwnAuthority(undefined);
    },
  };
}
