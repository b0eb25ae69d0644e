/**
 * Everything the bench starts (child processes, redis-server) registers how to stop it here, so that an error or
 * Ctrl-C still stops it. Processes are only ever killed by their own pid.
 */
export interface Resource {
  /** Stops the resource and waits for it. */
  stop(): Promise<void>;
  /** Last resort when the process is exiting and cannot wait: SIGKILL by pid. */
  kill(): void;
}

const live = new Set<Resource>();

export function track(resource: Resource): () => void {
  live.add(resource);
  return () => live.delete(resource);
}

/**
 * Registers something started elsewhere (a redis-server or PM2 daemon from test/support) until it is stopped: returns
 * it with a `stop` that also ends the registration. `kill` is the last resort at exit (by pid); leave it out when the
 * thing kills itself then (test/support's redis-server does).
 */
export function tracked<T extends { stop(): Promise<void> }>(thing: T, kill: () => void = () => undefined): T {
  const untrack = track({ stop: () => thing.stop(), kill });
  return {
    ...thing,
    async stop() {
      try {
        await thing.stop();
      } finally {
        untrack();
      }
    },
  };
}

export async function stopAll(): Promise<void> {
  await Promise.allSettled([...live].map((resource) => resource.stop()));
  live.clear();
}

/** Signals that force an exit while stopping: Ctrl-C may arrive twice (from the terminal and relayed by npm or tsx). */
const FORCE_AFTER_SIGNALS = 3;

/**
 * Stops everything on Ctrl-C / SIGTERM, and kills what is left if the process exits anyway. Further signals while it
 * stops are ignored (the handler stays, so a relayed copy of the first cannot end the process half-way) until the
 * third, which exits at once.
 */
export function installCleanup(): void {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (++signals >= FORCE_AFTER_SIGNALS) process.exit(130);
    if (signals > 1) return;
    console.error(`\n${signal}: stopping every process the bench started`);
    void stopAll().finally(() => process.exit(130));
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, onSignal);
  process.once('exit', () => {
    for (const resource of live) resource.kill();
  });
}
