import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TaskFn } from '../types.js';

/**
 * Imports a task file and returns its task function: the export `task` (node-cron's contract), else a default
 * export that is a function, or that holds `task` or a default function (a CommonJS module seen from ESM).
 * Every failure is an error naming the file, with what went wrong as its cause.
 */
export async function loadTaskFunction(fileUrl: string): Promise<TaskFn> {
  const path = fileURLToPath(fileUrl);
  let module: Record<string, unknown>;
  try {
    module = (await import(fileUrl)) as Record<string, unknown>;
  } catch (error) {
    // Checked only now: under a loader such as tsx, `./backup.js` may be served from backup.ts.
    const what = existsSync(path) ? `failed to load: ${messageOf(error)}` : 'does not exist';
    throw new Error(`fleetcron: background task file ${path} ${what}`, { cause: error });
  }
  const fn = pick(module);
  if (!fn) {
    throw new TypeError(`fleetcron: background task file ${path} exports no task function; export a function named \`task\` (or a default function)`);
  }
  return fn;
}

function pick(module: Record<string, unknown>): TaskFn | undefined {
  const fallback = module.default;
  const candidates = [module.task, fallback];
  if (typeof fallback === 'object' && fallback !== null) {
    candidates.push((fallback as Record<string, unknown>).task, (fallback as Record<string, unknown>).default);
  }
  return candidates.find((candidate): candidate is TaskFn => typeof candidate === 'function');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
