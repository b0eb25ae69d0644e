import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { untilSecondPhase, untilWall } from './clock.js';

/** The two Redis clients RedisLockCoordinator accepts, connected to the bench's private server. */
export type NodeRedisClient = ReturnType<typeof createClient>;

/** `name` (CLIENT SETNAME) lets a CommandMonitor attribute the connection's commands. */
export async function connectIoRedis(port: number, name?: string): Promise<Redis> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, ...(name ? { connectionName: name } : {}) });
  await client.connect();
  return client;
}

export async function connectNodeRedis(port: number, name?: string): Promise<NodeRedisClient> {
  const client = createClient({ socket: { port, host: '127.0.0.1' }, ...(name ? { name } : {}) });
  client.on('error', (error: unknown) => console.error('node-redis:', error));
  await client.connect();
  return client;
}

/**
 * Counts, with MONITOR, the commands that the connections named `${namePrefix}…` send Redis: exactly what those
 * clients sent (INFO commandstats would add the commands Lua scripts run inside Redis, and everyone else's).
 */
export class CommandMonitor {
  private sources = new Set<string>();
  private counts: Record<string, number> = {};

  private constructor(
    private readonly admin: Redis,
    private readonly monitor: Redis,
    private readonly namePrefix: string,
  ) {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const name = args[0]?.toLowerCase();
      if (name !== undefined && this.sources.has(source)) this.counts[name] = (this.counts[name] ?? 0) + 1;
    });
  }

  static async start(port: number, namePrefix: string): Promise<CommandMonitor> {
    const admin = await connectIoRedis(port);
    return new CommandMonitor(admin, await admin.monitor(), namePrefix);
  }

  /** Starts a count from zero, over the named connections open now. */
  async reset(): Promise<void> {
    const clients = String(await this.admin.client('LIST'));
    this.sources = new Set(
      [...clients.matchAll(/\baddr=(\S+) .*?\bname=(\S*)/g)].filter((match) => match[2]!.startsWith(this.namePrefix)).map((match) => match[1]!),
    );
    this.counts = {};
  }

  /**
   * Counts over a window of `seconds` planned whole seconds, the first one half a second away: `window` is given its
   * first and last second as the count starts; resolves half a second after the last one with the count.
   */
  async countOver(seconds: number, window: (first: number, last: number) => void): Promise<Record<string, number>> {
    const start = await untilSecondPhase(500);
    await this.reset();
    const last = start + 500 + (seconds - 1) * 1000;
    window(start + 500, last);
    await untilWall(last + 500);
    return this.read();
  }

  /** Commands per name (lower case) since the last reset. */
  read(): Record<string, number> {
    return { ...this.counts };
  }

  stop(): void {
    this.monitor.disconnect();
    this.admin.disconnect();
  }
}

export function totalCalls(calls: Record<string, number>): number {
  return Object.values(calls).reduce((total, count) => total + count, 0);
}

/** "EVAL+SET": which commands made up a count. */
export function describeCalls(calls: Record<string, number>): string {
  const names = Object.keys(calls).sort();
  return names.length === 0 ? 'none' : names.map((name) => name.toUpperCase()).join('+');
}
