import type { RunCoordinator } from '../types.js';
import { followedHere, hostCoordinator } from '../ipc/host.js';
import { processWide } from '../process-state.js';
import { EnvVarRunCoordinator } from './env-var.js';
import { isFireBackend } from './records/backend.js';

const processWideCoordinator = processWide('coordinator', (): { coordinator?: RunCoordinator } => ({}));

/** Sets the process-wide coordinator; it is read when a distributed task is created (as node-cron). */
export function setRunCoordinator(coordinator: RunCoordinator | undefined): void {
  processWideCoordinator.coordinator = coordinator;
}

export function getRunCoordinator(): RunCoordinator | undefined {
  return processWideCoordinator.coordinator;
}

/**
 * The coordinator of a distributed task: its own; else its host's authority (so the workers of a host cost one
 * upstream call per fire, whatever each of them set process-wide), unless the parent never identified itself as
 * one and a process-wide coordinator is set; else the process-wide one; else the env-var designated runner.
 */
export function resolveRunCoordinator(perTask: RunCoordinator | undefined): RunCoordinator {
  const processWide = getRunCoordinator();
  const chosen = perTask ?? hostCoordinator(processWide) ?? processWide ?? new EnvVarRunCoordinator();
  return isFireBackend(chosen) ? followedHere(chosen) : chosen;
}
