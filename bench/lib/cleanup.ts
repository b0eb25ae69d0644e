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

export async function stopAll(): Promise<void> {
  await Promise.allSettled([...live].map((resource) => resource.stop()));
  live.clear();
}

/** Stops everything on Ctrl-C / SIGTERM, and kills what is left if the process exits anyway. */
export function installCleanup(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping every process the bench started`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  process.once('exit', () => {
    for (const resource of live) resource.kill();
  });
}
