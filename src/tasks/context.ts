import { formatLocalIso } from '../time/zone.js';
import type { Execution, ScheduledTask, SkipReason, TaskContext } from '../types.js';

/** The context every listener and task function receives (node-cron's shape, `execution` always a key). */
export function createContext(
  task: ScheduledTask,
  timezone: string | undefined,
  date: number,
  execution?: Execution,
  reason?: SkipReason,
  error?: Error,
): TaskContext {
  const context: TaskContext = {
    date: new Date(date),
    dateLocalIso: formatLocalIso(date, timezone),
    triggeredAt: new Date(),
    task,
    execution,
  };
  if (reason) context.reason = reason;
  if (error) context.error = error;
  return context;
}
