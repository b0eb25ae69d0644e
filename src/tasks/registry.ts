import { processWide } from '../process-state.js';
import type { ScheduledTask } from '../types.js';

const tasks = processWide('tasks', () => new Map<string, ScheduledTask>());

export function register(task: ScheduledTask): void {
  tasks.set(task.id, task);
}

export function unregister(task: ScheduledTask): void {
  tasks.delete(task.id);
}

/** A snapshot keyed by task id; changing it does not change the registry (node-cron returned its own Map). */
export function getTasks(): Map<string, ScheduledTask> {
  return new Map(tasks);
}

export function getTask(taskId: string): ScheduledTask | undefined {
  return tasks.get(taskId);
}
