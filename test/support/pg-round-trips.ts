import { createConnection, createServer, type Socket } from 'node:net';

export interface PgRoundTripCounter {
  /** The loopback port clients connect to instead of the server's. */
  port: number;
  /** Round trips since the last reset(): query cycles the server completed (its ReadyForQuery messages), start-ups not counted. */
  count(): number;
  reset(): void;
  /** Closes the listener and every connection through it. */
  close(): Promise<void>;
}

const READY_FOR_QUERY = 0x5a; // 'Z'

/**
 * A TCP proxy on 127.0.0.1 in front of the PostgreSQL server at `127.0.0.1:targetPort` that counts round trips. Each
 * query cycle, simple (Query) or extended (Parse/Bind/Execute up to Sync, which node-postgres writes in one go),
 * ends with one ReadyForQuery from the server, and so does each connection's start-up, which is left out.
 */
export async function startPgRoundTripCounter(targetPort: number): Promise<PgRoundTripCounter> {
  const connections = new Set<Socket>();
  let cycles = 0;

  const server = createServer((client) => {
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort });
    connections.add(client).add(upstream);
    let pending = Buffer.alloc(0);
    let startedUp = false;
    const end = () => {
      client.destroy();
      upstream.destroy();
      connections.delete(client);
      connections.delete(upstream);
    };
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      // Every server message: a type byte, then its length (which counts itself) as a 32-bit integer.
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5 && pending.length >= 1 + pending.readUInt32BE(1)) {
        if (pending[0] === READY_FOR_QUERY) {
          if (startedUp) cycles++;
          startedUp = true;
        }
        pending = pending.subarray(1 + pending.readUInt32BE(1));
      }
    });
    for (const socket of [client, upstream]) socket.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('pg-round-trips: could not determine its port');

  return {
    port: address.port,
    count: () => cycles,
    reset: () => {
      cycles = 0;
    },
    close: () => {
      for (const socket of connections) socket.destroy();
      connections.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
