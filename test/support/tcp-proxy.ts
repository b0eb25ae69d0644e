import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** The loopback port clients connect to instead of the target's. */
  port: number;
  /**
   * Lets the next request containing `marker` reach the target, then cuts that connection as soon as the target
   * replies, dropping the reply: the command was executed, its client never hears so. Resolves once cut.
   */
  cutAfterRequest(marker: string): Promise<void>;
  /** Drops every byte in either direction from now on, connections left open: a network partition. */
  partition(): void;
  /** Ends a partition: the connections it left hanging are closed (their clients reconnect), new ones pass. */
  heal(): void;
  /** Closes the listener and every connection through it. */
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `127.0.0.1:targetPort`, to lose replies and partition links on purpose. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const connections = new Set<Socket>();
  let partitioned = false;
  let armed: { marker: string; cut: () => void } | undefined;

  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    connections.add(client).add(upstream);
    let cutOnReply: (() => void) | undefined;
    const end = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      if (partitioned) return;
      if (armed && chunk.includes(armed.marker)) {
        cutOnReply = armed.cut;
        armed = undefined;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (partitioned) return;
      if (cutOnReply) {
        end();
        cutOnReply();
        return;
      }
      client.write(chunk);
    });
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('tcp-proxy: could not determine its port');

  return {
    port: address.port,
    cutAfterRequest: (marker) => new Promise<void>((cut) => (armed = { marker, cut })),
    partition: () => {
      partitioned = true;
    },
    heal: () => {
      for (const socket of connections) socket.destroy();
      connections.clear();
      partitioned = false;
    },
    close: () => {
      for (const socket of connections) socket.destroy();
      connections.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
