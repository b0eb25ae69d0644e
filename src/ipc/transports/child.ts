import { EventEmitter } from 'node:events';
import type { Authority, Peer } from '../authority.js';
import type { ParentChannel } from '../client.js';
import { envelope, openEnvelope } from '../protocol.js';

/**
 * The forked-daemon topology. A daemon hosts several tasks, and each is elected by its own authority in the parent
 * (the one holding that task's coordinator), so a daemon's request carries, beside the protocol envelope, the
 * `route` naming the task it is for. Replies need no route: request ids are unique per client.
 */
export interface Routed {
  route: string;
}

/** The parent's handle on a forked daemon (a ChildProcess). */
export interface ChildEnd {
  readonly connected: boolean;
  readonly pid?: number;
  send(message: unknown, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  off(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
}

/** The daemon's own `process`. */
export interface ParentEnd {
  send(message: unknown, callback: (error: Error | null) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
}

/**
 * Answers the election requests of a forked daemon, each with the authority of the task it names. Requests for
 * a task that is gone are dropped (the daemon's client times out and fails closed). When the daemon exits, or
 * cannot be answered, every authority it asked learns it is gone. Returns a function that stops.
 */
export function serveChild(child: ChildEnd, authorityFor: (route: string) => Authority | undefined): () => void {
  const asked = new Set<Authority>();
  const deliver = (data: Parameters<typeof envelope>[0], onFailure?: (cause: string) => void): void => {
    // The daemon can die between request and reply; sending to it must not throw or emit 'error'.
    if (!child.connected) return onFailure?.('disconnected before its answer could be sent');
    child.send(envelope(data), (error) => {
      if (error) onFailure?.(`could not be answered (${error.message})`);
    });
  };
  const peer: Peer = { id: `background daemon (pid ${child.pid})`, pid: child.pid, notify: (notice) => deliver(notice) };
  const gone = (cause: string): void => {
    for (const authority of asked) authority.peerGone(peer.id, cause);
  };
  const onMessage = (message: unknown): void => {
    const data = openEnvelope(message);
    const route = data && (message as Partial<Routed>).route;
    const authority = typeof route === 'string' ? authorityFor(route) : undefined;
    if (!data || !authority) return;
    asked.add(authority);
    void authority.handle(data, peer).then((reply) => reply && deliver(reply, gone));
  };
  child.on('message', onMessage);
  child.once('exit', (code, signal) => gone(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  return () => child.off('message', onMessage);
}

/** The daemon's end: one channel per hosted task over the daemon's single IPC channel to its parent. */
export class ChildLink {
  private readonly channels = new Set<EventEmitter>();

  constructor(private readonly parent: ParentEnd) {
    // One listener each for all tasks: a process emitter warns past ten listeners of an event.
    parent.on('message', (message) => {
      if (openEnvelope(message)) for (const channel of this.channels) channel.emit('message', message);
    });
    parent.once('disconnect', () => {
      for (const channel of this.channels) channel.emit('disconnect');
    });
  }

  /** A channel whose requests are routed to the authority of `route`; `close()` once the task is gone. */
  channel(route: string): ParentChannel & { close(): void } {
    const events = new EventEmitter();
    this.channels.add(events);
    return {
      send: (message, callback) => this.parent.send({ ...(message as object), route } satisfies Routed, callback),
      on: (event, listener) => events.on(event, listener),
      off: (event, listener) => events.off(event, listener),
      once: (event, listener) => events.once(event, listener),
      close: () => void this.channels.delete(events),
    };
  }
}
