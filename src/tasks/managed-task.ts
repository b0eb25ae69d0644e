import type { ScheduledTask } from '../types.js';

/** What the registry and `shutdown()` need from a task beyond the public interface. */
export interface ManagedTask extends ScheduledTask {
  /** Resolves once no scheduled run of this task is executing. */
  whenIdle(): Promise<void>;
}
