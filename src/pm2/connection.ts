import type { AxonSocket, Pm2Bus, Pm2Constructor, Pm2ProcessId } from './pm2-api.js';

export interface Pm2ConnectOptions {
  /** Default: PM2's own choice, PM2_HOME (set in every app PM2 runs) else ~/.pm2. */
  pm2Home?: string;
  timeoutMs: number;
}

/** A connection of its own to a running PM2 daemon: its RPC socket and its bus. */
export interface Pm2Connection {
  readonly pm2Home: string;
  readonly bus: Pm2Bus;
  /** Sends a packet to a PM2 process (`topic` and `data` are required by PM2); rejects with PM2's error. */
  send(pmId: Pm2ProcessId, packet: object): Promise<void>;
  /** Closes both sockets; nothing is left reconnecting. */
  close(): Promise<void>;
}

/**
 * Connects to the PM2 daemon of `pm2Home` and opens its bus, within `timeoutMs`. It never starts a daemon: one
 * started here would outlive this process (and its apps would be nobody's).
 */
export async function connectPm2(Pm2: Pm2Constructor, options: Pm2ConnectOptions): Promise<Pm2Connection> {
  const api = new Pm2(options.pm2Home === undefined ? undefined : { pm2_home: options.pm2Home });
  let closed = false;
  const close = async (): Promise<void> => {
    closed = true;
    await Promise.all([closeSocket(api.Client.sub_sock), closeSocket(api.Client.client_sock)]);
  };

  const connect = async (): Promise<Pm2Bus> => {
    const alive = await new Promise<boolean>((resolve) => api.Client.pingDaemon(resolve));
    if (!alive) throw new Error(`fleetcron: no PM2 daemon is running at PM2_HOME=${api.pm2_home}; start the arbiter as a PM2 app`);
    // Each step checks whether the deadline passed meanwhile, so a late step opens no socket after close().
    if (closed) throw new Error('closed');
    await new Promise<void>((resolve, reject) => api.connect((error) => (error ? reject(error) : resolve())));
    if (closed) throw new Error('closed');
    return new Promise<Pm2Bus>((resolve, reject) => api.launchBus((error, bus) => (error ? reject(error) : resolve(bus))));
  };

  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`fleetcron: could not connect to the PM2 daemon of PM2_HOME=${api.pm2_home} within ${options.timeoutMs} ms`)), options.timeoutMs);
  });
  let bus: Pm2Bus;
  try {
    bus = await Promise.race([connect(), expired]);
  } catch (error) {
    await close();
    throw error;
  } finally {
    clearTimeout(timer);
  }

  return {
    pm2Home: api.pm2_home,
    bus,
    send(pmId, packet) {
      // After close, PM2's client would reconnect (or even spawn a daemon) to deliver it.
      if (closed) return Promise.reject(new Error('the PM2 connection is closed'));
      return new Promise<void>((resolve, reject) => api.sendDataToProcessId(pmId, packet, (error) => (error ? reject(error) : resolve())));
    },
    close,
  };
}

const CLOSE_GRACE_MS = 1000;

/**
 * `pm2.disconnect()` skips a socket that is not connected at that moment, and an axon socket whose peer went
 * away keeps reconnecting forever, holding the process open. Closing each socket directly stops that; a
 * reconnect that was already under way is closed when it lands.
 */
export function closeSocket(socket: AxonSocket | undefined): Promise<void> {
  if (!socket) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, CLOSE_GRACE_MS);
    timer.unref();
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('connect', () => socket.close());
    socket.close();
  });
}
