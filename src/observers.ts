import { globalLogger } from './logger.js';
import { processWide } from './process-state.js';
import type { TaskContext, TaskEvent } from './types.js';

/**
 * Watches every task of the process, whatever listeners the tasks have (fleetcron/metrics is one). Observers are
 * called synchronously where the event is emitted and must not change the context; a throw is logged, never
 * passed to the task.
 */
export interface TaskObserver {
  /** An event of the task named `task`, with the context its listeners get. */
  event?(task: string, event: TaskEvent, context: TaskContext): void;
  /** An election of a fire of a distributed task: `seconds` from asking its coordinator to the answer. */
  election?(task: string, seconds: number, elected: boolean): void;
}

// Process-wide, so an observer added through one copy of fleetcron (fleetcron/metrics, or the CommonJS build next
// to the ES module one) sees the tasks of every copy.
const observers = processWide<TaskObserver[]>('task-observers', () => []);

/** Adds an observer of every task; the function returned removes it. */
export function addTaskObserver(observer: TaskObserver): () => void {
  observers.push(observer);
  return () => {
    const index = observers.indexOf(observer);
    if (index !== -1) observers.splice(index, 1);
  };
}

/** Whether anything observes tasks: without observers, emitting stays one array length check dearer. */
export function observing(): boolean {
  return observers.length > 0;
}

export function observeEvent(task: string, event: TaskEvent, context: TaskContext): void {
  for (const observer of [...observers]) guarded(() => observer.event?.(task, event, context));
}

export function observeElection(task: string, seconds: number, elected: boolean): void {
  for (const observer of [...observers]) guarded(() => observer.election?.(task, seconds, elected));
}

function guarded(call: () => void): void {
  try {
    call();
  } catch (error) {
    globalLogger.error(error instanceof Error ? error : String(error));
  }
}
