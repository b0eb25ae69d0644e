import { createRequire } from 'node:module';
import { dirname } from 'node:path';

/**
 * The slice of PM2's programmatic API (pm2 >= 5) that fleetcron uses. pm2's own typings describe only the
 * shared default instance; fleetcron needs `custom` (an instance with sockets of its own) and its `Client`.
 */
export interface Pm2Bus {
  on(event: string, listener: (packet: unknown) => void): unknown;
  /** Removes every listener of `event`. */
  off(event: string): unknown;
}

/** An axon socket: it reconnects by itself until `close()`d. */
export interface AxonSocket {
  readonly connected?: boolean;
  close(): void;
  on(event: 'connect', listener: () => void): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export interface Pm2Client {
  /** The RPC socket, once connected. */
  client_sock?: AxonSocket;
  /** The bus socket, once launched. */
  sub_sock?: AxonSocket;
  pingDaemon(callback: (alive: boolean) => void): void;
}

export interface Pm2Api {
  readonly pm2_home: string;
  readonly Client: Pm2Client;
  connect(callback: (error: Error | null) => void): void;
  launchBus(callback: (error: Error | null, bus: Pm2Bus) => void): void;
  sendDataToProcessId(pmId: Pm2ProcessId, packet: object, callback: (error: Error | null) => void): void;
}

/** A pm_id, or `_old_<pm_id>` for a process that `pm2 reload` is replacing. */
export type Pm2ProcessId = number | string;

export type Pm2Constructor = new (options?: { pm2_home?: string }) => Pm2Api;

const MISSING_PM2 =
  "fleetcron: servePm2() needs the 'pm2' package, which is not installed here. " +
  "Install it in the app that runs the arbiter (npm install pm2); it is an optional peer dependency of fleetcron.";

/**
 * Loads pm2 on first use, so `fleetcron/pm2` can be imported without it. When the project has no pm2 of its
 * own (PM2 installed globally, the usual setup), the PM2 that runs this process is used.
 */
export async function loadPm2(): Promise<Pm2Constructor> {
  let loaded: unknown;
  try {
    loaded = await import('pm2');
  } catch (error) {
    if (!isMissing(error, 'pm2')) throw error;
    const host = hostPm2Root();
    if (host === undefined) throw new Error(MISSING_PM2);
    loaded = createRequire(import.meta.url)(host);
  }
  const custom = pick(loaded, 'custom') ?? pick(pick(loaded, 'default'), 'custom');
  if (typeof custom !== 'function') throw new Error('fleetcron: the installed pm2 package has no programmatic API (pm2 >= 5 is required)');
  return custom as Pm2Constructor;
}

/** True when `error` says that `name` itself (not one of its own imports) cannot be found. */
export function isMissing(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
}

/** The package root of the PM2 whose process container runs this process (`<root>/lib/ProcessContainer*.js`). */
function hostPm2Root(): string | undefined {
  const container = process.env.pm_id === undefined ? undefined : process.argv[1];
  if (!container || !/[\\/]lib[\\/]ProcessContainer(Fork)?\.js$/.test(container)) return undefined;
  return dirname(dirname(container));
}

function pick(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}
