import { nodeCluster } from '../builtins.js';
import { globalLogger } from '../logger.js';
import { Authority, type Peer } from '../ipc/authority.js';
import { assertNotServing, setOwnAuthority } from '../ipc/host.js';
import { envelope, MESSAGE_TYPE, openEnvelope } from '../ipc/protocol.js';
import { defaultUpstream, type ServeOptions } from '../ipc/transports/cluster.js';
import { lockAddress, tryLock, waitForLock, type HeldLock, type LockAttempt, type LockHolder, type LockWait } from './arbiter-lock.js';
import { connectPm2 } from './connection.js';
import { loadPm2, type Pm2ProcessId } from './pm2-api.js';
import { pm2Scope } from './scope.js';

export interface ServePm2Options extends ServeOptions {
  /** The home directory of the PM2 daemon to serve. Default: PM2_HOME, which PM2 sets in every app it runs, else ~/.pm2. */
  pm2Home?: string;
  /** Bound on connecting to the daemon and its bus, in ms (default 10 000). */
  connectTimeoutMs?: number;
}

export interface Pm2AuthorityHandle {
  /** The PM2_HOME of the daemon served. */
  readonly pm2Home: string;
  /**
   * Resolves once this process answers elections: at once, or, while another arbiter serves the same daemon, when
   * that one stops and this one takes over.
   */
  readonly serving: Promise<void>;
  /** Stops serving (or standing by) and closes the connection to PM2 (its RPC and bus sockets). */
  close(): Promise<void>;
}

/** A request as PM2's bus carries it, with the PM2 process that sent it. */
interface BusRequest {
  data: Record<string, unknown>;
  pmId: Pm2ProcessId;
  /** The election scope of the sender's app: its PM2 namespace and name (see pm2Scope). */
  app: string;
}

const STANDBY_RETRY_MS = 1000;

/**
 * Serves the elections of every PM2 app on this host's PM2 daemon, one scope per app (its namespace and name), so
 * two apps never elect for each other, nor do two apps of one name in two namespaces. Run it in a fork-mode PM2 app
 * with `instances: 1` (the shipped `fleetcron/pm2-arbiter` does): in PM2 cluster mode the cluster primary is PM2's
 * own daemon, so the instances' requests reach this process over PM2's bus and the replies go back through the
 * daemon.
 *
 * Only one process serves a daemon at a time: two would each elect their own winner for the same fire. A second
 * one warns and stands by, and takes over when the first stops, as a restarted arbiter would.
 */
export async function servePm2(options: ServePm2Options = {}): Promise<Pm2AuthorityHandle> {
  assertNotServing('servePm2()');
  const logger = options.logger ?? globalLogger;
  if (nodeCluster().isWorker) {
    logger.warn(
      "servePm2(): this arbiter runs as a cluster worker (PM2's exec_mode 'cluster'), one arbiter per instance: " +
        "run it with exec_mode: 'fork', instances: 1. Only one of its instances serves; the others stand by.",
    );
  }
  const connection = await connectPm2(await loadPm2(), {
    pm2Home: options.pm2Home,
    timeoutMs: options.connectTimeoutMs ?? 10_000,
  });
  const pmId = Number(process.env.pm_id ?? NaN);
  const self: LockHolder = Number.isSafeInteger(pmId) ? { pid: process.pid, pmId } : { pid: process.pid };
  let closed = false;
  let release: (() => Promise<void>) | undefined;
  let standby: LockWait | undefined;
  let address: string;
  let servingAuthority: Authority | undefined;

  const standBy = (): Promise<void> => {
    standby = waitForLock(address, self, STANDBY_RETRY_MS, (error) => logger.error('servePm2(): could not check the one-arbiter lock; retrying', error));
    return standby.held.then(serve);
  };
  const stopServing = (): void => {
    connection.bus.off(MESSAGE_TYPE);
    connection.bus.off('process:event');
    setOwnAuthority(undefined);
    servingAuthority?.close();
    release = undefined;
  };

  const serve = (lock: HeldLock): void => {
    if (closed) return void lock.release();
    release = lock.release;
    void lock.lost.then(() => {
      if (closed) return;
      logger.error(
        `servePm2(): the one-arbiter lock ${address} of PM2_HOME=${connection.pm2Home} is no longer this arbiter's (replaced or deleted); ` +
          'it stops answering elections and stands by.',
      );
      stopServing();
      void standBy();
    });
    const authority = new Authority({
      upstream: defaultUpstream(options, logger, 'servePm2()', false),
      electionTimeoutMs: options.electionTimeoutMs,
      logger,
    });
    servingAuthority = authority;
    const peers = new Map<Pm2ProcessId, Peer>();
    const peerOf = (pmId: Pm2ProcessId): Peer => {
      let peer = peers.get(pmId);
      if (!peer) {
        peer = { id: `PM2 process ${pmId}`, notify: (notice) => void connection.send(pmId, envelope(notice)).catch(() => undefined) };
        peers.set(pmId, peer);
      }
      return peer;
    };
    const gone = (pmId: Pm2ProcessId, cause: string): void => {
      const peer = peers.get(pmId);
      if (!peer) return;
      peers.delete(pmId);
      authority.peerGone(peer.id, cause);
    };
    const answer = ({ data, pmId, app }: BusRequest): void => {
      authority.handle(data, peerOf(pmId), app).then(
        async (reply) => {
          if (!reply || closed) return;
          try {
            await connection.send(pmId, envelope(reply));
          } catch (error) {
            // The instance stopped or restarted (same pm_id, new process) before its answer was ready.
            const cause = error instanceof Error ? error.message : String(error);
            logger.warn(`servePm2(): could not answer PM2 process ${pmId} (${app}): ${cause}`);
            gone(pmId, `could not be answered (${cause})`);
          }
        },
        (error: unknown) => logger.error(`servePm2(): could not decide a request of PM2 process ${pmId} (${app})`, error),
      );
    };
    // God publishes an instance's `{ type, data }` as bus event `type`, so only our own message type is subscribed.
    connection.bus.on(MESSAGE_TYPE, (packet) => {
      const request = busRequest(packet);
      if (request) answer(request);
    });
    // An instance that exits gives up the fires it held; one that restarts comes back as a new process.
    connection.bus.on('process:event', (packet) => {
      const exit = processExit(packet);
      if (exit) gone(exit.pmId, exit.cause);
    });
    // This process's own tasks elect in its app's scope, with the instances of its app (its standby among them).
    const ownApp = process.env.pm_id === undefined ? undefined : process.env.name;
    setOwnAuthority(authority, ownApp === undefined ? '' : pm2Scope(process.env.namespace, ownApp));
  };

  let first: LockAttempt;
  try {
    address = lockAddress(connection.pm2Home);
    first = await tryLock(address, self);
  } catch (error) {
    await connection.close();
    throw error;
  }
  let serving: Promise<void>;
  if (first.held) {
    serve(first);
    serving = Promise.resolve();
  } else {
    logger.warn(
      `servePm2(): another fleetcron arbiter (${describeHolder(first.holder)}) already serves the PM2 daemon at PM2_HOME=${connection.pm2Home}; ` +
        `this one (${describeHolder(self)}) stands by and takes over when it stops. Run one arbiter per PM2 daemon (instances: 1).`,
    );
    serving = standBy();
  }

  return {
    pm2Home: connection.pm2Home,
    serving,
    async close() {
      if (closed) return;
      closed = true;
      standby?.cancel();
      if (release) {
        const releaseLock = release;
        stopServing();
        await releaseLock();
      }
      await connection.close();
    },
  };
}

function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'a process that did not say which';
  return holder.pmId === undefined ? `pid ${holder.pid}` : `pid ${holder.pid}, PM2 process ${holder.pmId}`;
}

function busRequest(packet: unknown): BusRequest | undefined {
  if (typeof packet !== 'object' || packet === null) return undefined;
  const { data, process: sender } = packet as { data?: unknown; process?: unknown };
  const request = openEnvelope({ type: MESSAGE_TYPE, data });
  if (!request || typeof sender !== 'object' || sender === null) return undefined;
  const { pm_id: id, name, namespace } = sender as { pm_id?: unknown; name?: unknown; namespace?: unknown };
  const pmId = processId(id);
  if (pmId === undefined || typeof name !== 'string') return undefined;
  // PM2 starts every app in a namespace ('default' unless told otherwise); a packet without one is from that one.
  return { data: request, pmId, app: pm2Scope(typeof namespace === 'string' ? namespace : undefined, name) };
}

/** A PM2 `process:event` that ends a process: its id and how it ended. */
function processExit(packet: unknown): { pmId: Pm2ProcessId; cause: string } | undefined {
  if (typeof packet !== 'object' || packet === null) return undefined;
  const { event, process: sender } = packet as { event?: unknown; process?: { pm_id?: unknown } };
  if (event !== 'exit') return undefined;
  const pmId = processId(sender?.pm_id);
  return pmId === undefined ? undefined : { pmId, cause: 'exited' };
}

/**
 * A PM2 process's id: its pm_id, or `_old_<pm_id>` while `pm2 reload` runs it beside the replacement that took over
 * its pm_id. Such a process still fires until it is stopped, and is answered under that id.
 */
function processId(id: unknown): Pm2ProcessId | undefined {
  if (Number.isSafeInteger(id) && (id as number) >= 0) return id as number;
  return typeof id === 'string' && /^_old_\d+$/.test(id) ? id : undefined;
}
