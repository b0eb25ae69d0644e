import type { RunCoordinator } from '../types.js';
import { hostCoordinator } from '../ipc/host.js';
import { EnvVarRunCoordinator } from './env-var.js';

let globalCoordinator: RunCoordinator | undefined;

/** Sets the process-wide coordinator; it is read when a distributed task is created (as node-cron). */
export function setRunCoordinator(coordinator: RunCoordinator | undefined): void {
  globalCoordinator = coordinator;
}

export function getRunCoordinator(): RunCoordinator | undefined {
  return globalCoordinator;
}

/**
 * The coordinator of a distributed task: its own; else its host's authority (so the workers of a host cost one
 * upstream call per fire, whatever each of them set process-wide), unless the parent never identified itself as
 * one and a process-wide coordinator is set; else the process-wide one; else the env-var designated runner.
 */
export function resolveRunCoordinator(perTask: RunCoordinator | undefined): RunCoordinator {
  return perTask ?? hostCoordinator(globalCoordinator) ?? globalCoordinator ?? new EnvVarRunCoordinator();
}
