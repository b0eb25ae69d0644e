import { setRunCoordinator as setGlobalCoordinator } from './coordination/default.js';
import { globalLogger } from './logger.js';
import { InlineScheduledTask } from './tasks/inline-task.js';
import type { ManagedTask } from './tasks/managed-task.js';
import { checkOptions, isRunCoordinator } from './tasks/options.js';
import { getTasks, register } from './tasks/registry.js';
import { parse } from './time/expression.js';
import type { RunCoordinator, ScheduledTask, TaskFn, TaskOptions } from './types.js';

/** Creates a task and starts it. */
export function schedule(expression: string, func: TaskFn | string, options?: TaskOptions): ScheduledTask {
  const task = createTask(expression, func, options);
  task.start();
  return task;
}

/**
 * Creates a task without starting it. Everything is checked first — expression, time zone, options, the
 * coordinator — so a call that throws leaves nothing registered.
 */
export function createTask(expression: string, func: TaskFn | string, options?: TaskOptions): ManagedTask {
  parse(expression);
  const checked = checkOptions(options, (message) => (options?.logger ?? globalLogger).warn(message));
  if (typeof func !== 'function') {
    throw new TypeError(`fleetcron: the second argument must be a task function (got ${describe(func)})`);
  }
  const task = new InlineScheduledTask(expression, func, checked);
  register(task);
  return task;
}

export function setRunCoordinator(coordinator: RunCoordinator | undefined | null): void {
  if (coordinator !== undefined && coordinator !== null && !isRunCoordinator(coordinator)) {
    throw new TypeError('fleetcron: setRunCoordinator() needs an object with a shouldRun(key, ttlMs) method, or undefined');
  }
  setGlobalCoordinator(coordinator ?? undefined);
}

/**
 * Stops every task, waits up to `timeout` ms for runs in progress to end, then destroys every task. Leaves no
 * timer behind, so a process with nothing else to do exits.
 */
export async function shutdown(timeout = 5000): Promise<void> {
  const tasks = [...getTasks().values()] as ManagedTask[];
  const busy = tasks.filter((task) => task.isBusy()).map((task) => task.whenIdle());
  await Promise.all(tasks.map((task) => settle(() => task.stop(), `stopping task "${task.name}"`)));
  if (busy.length > 0) {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
    await Promise.race([Promise.all(busy), expired]);
    clearTimeout(timer);
  }
  await Promise.all(tasks.map((task) => settle(() => task.destroy(), `destroying task "${task.name}"`)));
}

async function settle(action: () => void | Promise<void>, what: string): Promise<void> {
  try {
    await action();
  } catch (error) {
    globalLogger.error(`Error ${what} during shutdown: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  return typeof value;
}
