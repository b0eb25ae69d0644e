import cluster, { type Worker } from 'node:cluster';
import { getRunCoordinator } from '../../coordination/default.js';
import { EnvVarRunCoordinator } from '../../coordination/env-var.js';
import { globalLogger } from '../../logger.js';
import type { Logger, RunCoordinator } from '../../types.js';
import { Authority } from '../authority.js';
import { assertNotServing, setOwnAuthority } from '../host.js';
import { envelope, openEnvelope } from '../protocol.js';
import { AUTHORITY_MARKER } from '../topology.js';

export interface ServeOptions {
  /** Upstream coordinator. Default: the one set with setRunCoordinator, else the env-var runner when NODE_CRON_RUN is set, else host-local election. */
  coordinator?: RunCoordinator;
  /** Bound on each upstream call, in ms (default 5000). */
  electionTimeoutMs?: number;
  logger?: Logger;
}

export interface AuthorityHandle {
  readonly authority: Authority;
  close(): void;
}

/** The upstream an authority uses when none is given, announced once in its log. */
export function defaultUpstream(options: ServeOptions, logger: Logger, where: string): RunCoordinator | undefined {
  const upstream = options.coordinator ?? getRunCoordinator() ?? (process.env.NODE_CRON_RUN !== undefined ? new EnvVarRunCoordinator() : undefined);
  if (!upstream) logger.info(`${where}: no upstream coordinator; electing host-locally (one run per fire on this host)`);
  else if (upstream instanceof EnvVarRunCoordinator) logger.info(`${where}: this host is the designated runner only when NODE_CRON_RUN=true (now '${process.env.NODE_CRON_RUN}')`);
  return upstream;
}

/**
 * Makes this node:cluster primary the election authority of all its workers, present and future. Tasks of the
 * primary itself are elected by the same authority.
 */
export function serveCluster(options: ServeOptions = {}): AuthorityHandle {
  if (!cluster.isPrimary) throw new Error('fleetcron: serveCluster() must be called in the node:cluster primary');
  assertNotServing('serveCluster()');
  const logger = options.logger ?? globalLogger;
  const authority = new Authority({
    upstream: defaultUpstream(options, logger, 'serveCluster()'),
    electionTimeoutMs: options.electionTimeoutMs,
  });
  const onMessage = (worker: Worker, message: unknown): void => {
    const data = openEnvelope(message);
    if (!data) return;
    authority.handle(data).then(
      (reply) => {
        // A worker can die between request and reply; sending to it must not crash the primary.
        if (reply && worker.isConnected()) worker.send(envelope(reply), undefined, () => undefined);
      },
      (error: unknown) => logger.error(`serveCluster(): could not decide a request of worker ${worker.id}`, error),
    );
  };
  cluster.on('message', onMessage);
  const previousMarker = process.env[AUTHORITY_MARKER];
  process.env[AUTHORITY_MARKER] = `cluster:${process.pid}`;
  setOwnAuthority(authority);
  return {
    authority,
    close() {
      cluster.off('message', onMessage);
      if (previousMarker === undefined) delete process.env[AUTHORITY_MARKER];
      else process.env[AUTHORITY_MARKER] = previousMarker;
      setOwnAuthority(undefined);
    },
  };
}
