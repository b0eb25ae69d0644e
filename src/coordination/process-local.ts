import { processWide } from '../process-state.js';
import type { RunCoordinator } from '../types.js';

/** The coordinators that remember nothing outside this process: the env-var designated runner, the in-memory one. */
export type ProcessLocalKind = 'env-var' | 'memory';

// Kept process-wide rather than asked with instanceof, which knows only the classes of its own copy of fleetcron:
// a MemoryRunCoordinator made by the ES module build and served by the CommonJS one is still in-memory.
const kinds = processWide('process-local-coordinators', () => new WeakMap<RunCoordinator, ProcessLocalKind>());

export function markProcessLocal(coordinator: RunCoordinator, kind: ProcessLocalKind): void {
  kinds.set(coordinator, kind);
}

export function processLocalKind(coordinator: RunCoordinator): ProcessLocalKind | undefined {
  return kinds.get(coordinator);
}
