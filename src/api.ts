import { closeDaemons } from './background/daemon-process.js';
import { resolveTaskFile, type Boundary } from './background/solve-path.js';
import { setRunCoordinator as setGlobalCoordinator } from './coordination/default.js';
import { globalLogger } from './logger.js';
import { BackgroundScheduledTask } from './tasks/background-task.js';
import { InlineScheduledTask } from './tasks/inline-task.js';
import type { ManagedTask } from './tasks/managed-task.js';
import { checkOptions, isRunCoordinator } from './tasks/options.js';
import { getTasks, register } from './tasks/registry.js';
import { warnIfZoneUnset } from './tasks/zone-warning.js';
import { compileExpression } from './time/expression.js';
import type { RunCoordinator, ScheduledTask, TaskFn, TaskOptions } from './types.js';

/**
 * Creates a task and starts it. A background task (a file) starts asynchronously: if that fails, the task emits
 * `task:failed` with the error and is destroyed, so nothing stays registered, and the failure is logged.
 */
export function schedule(expression: string, func: TaskFn | string | URL, options?: TaskOptions): ScheduledTask {
  const task = makeTask(expression, func, options, schedule);
  if (task instanceof BackgroundScheduledTask) {
    task.start().catch((error: unknown) => {
      task.abandon(error instanceof Error ? error : new Error(String(error)));
      (options?.logger ?? globalLogger).error(`Failed to start scheduled task: ${error instanceof Error ? error.message : String(error)}`);
    });
  } else {
    task.start();
  }
  return task;
}

/**
 * Creates a task without starting it. Everything is checked first — expression, time zone, options, the
 * coordinator — so a call that throws leaves nothing registered. `func` is the task function, or the path of a
 * task file (relative to the calling file), or its file URL, for a task run by a background daemon.
 */
export function createTask(expression: string, func: TaskFn | string | URL, options?: TaskOptions): ManagedTask {
  return makeTask(expression, func, options, createTask);
}

function makeTask(expression: string, func: TaskFn | string | URL, options: TaskOptions | undefined, caller: Boundary): ManagedTask {
  const fields = compileExpression(expression);
  const logger = options?.logger ?? globalLogger;
  const checked = checkOptions(options, (message) => logger.warn(message));
  let task: ManagedTask;
  if (typeof func === 'function') task = new InlineScheduledTask(expression, func, checked);
  else if (typeof func === 'string' || func instanceof URL) task = new BackgroundScheduledTask(expression, resolveTaskFile(func, caller), checked);
  else throw new TypeError(`fleetcron: the second argument must be a task function or a task file path (got ${describe(func)})`);
  warnIfZoneUnset(expression, fields, checked, logger);
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
 * timer and no background daemon behind (a run still going past `timeout` in a daemon is ended with it), so a
 * process with nothing else to do exits.
 */
export async function shutdown(timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout;
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
  await closeDaemons(Math.max(0, deadline - Date.now()));
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
