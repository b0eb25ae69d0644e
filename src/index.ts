import { createTask, schedule, setRunCoordinator, shutdown } from './api.js';
import { setLogger } from './logger.js';
import { getTask, getTasks } from './tasks/registry.js';
import { parse, validate, validateDetailed } from './time/expression.js';

export { createTask, schedule, setRunCoordinator, shutdown } from './api.js';
export { solvePath } from './background/solve-path.js';
export { setLogger } from './logger.js';
export { getTask, getTasks } from './tasks/registry.js';
export { parse, validate, validateDetailed } from './time/expression.js';
export { EnvVarRunCoordinator } from './coordination/env-var.js';
export { MemoryRunCoordinator, type MemoryRunCoordinatorOptions } from './coordination/memory.js';
export type { ClaimAnswer, ClaimRequest, FireBackend } from './coordination/records/backend.js';
export type { FireOutcome, FireRecord, FireState, HistoryOptions, Holder, RetentionOptions } from './coordination/records/fire-record.js';
export { serveCluster, type AuthorityHandle, type ServeOptions } from './ipc/transports/cluster.js';
export type {
  CronFieldError, DetailedValidation, Execution, LastRun, Logger, ParsedFields, RunCoordinator, ScheduledTask,
  SkipReason, TaskContext, TaskEvent, TaskFn, TaskListener, TaskOptions, TaskStatus,
} from './types.js';

/** The default export, shaped like node-cron's. */
export const nodeCron = {
  schedule,
  createTask,
  validate,
  validateDetailed,
  parse,
  getTasks,
  getTask,
  setLogger,
  setRunCoordinator,
  shutdown,
};

export type NodeCron = typeof nodeCron;

export default nodeCron;
