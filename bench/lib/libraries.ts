import type { RunCoordinator } from '../../src/index.js';

/** The two schedulers every figure compares. */
export type LibraryName = 'fleetcron' | 'node-cron';
export const LIBRARIES: readonly LibraryName[] = ['fleetcron', 'node-cron'];

/** The part of the node-cron 4.6 API the benches use; both libraries have it, name for name. */
export interface BenchTask {
  destroy(): void | Promise<void>;
}

export interface BenchTaskOptions {
  name?: string;
  distributed?: boolean;
  runCoordinator?: RunCoordinator;
}

export type BenchTaskFn = (context: { date: Date }) => unknown;

export interface Scheduler {
  schedule(expression: string, fn: BenchTaskFn, options?: BenchTaskOptions): BenchTask;
}

export const silentLogger = { info() {}, warn() {}, error() {}, debug() {} };

/**
 * Loads one library into this process, with a silent logger: the benches count missed fires themselves, and a
 * warning printed per missed fire would be measured too.
 */
export async function loadScheduler(name: LibraryName): Promise<Scheduler> {
  const cron = name === 'fleetcron' ? (await import('../../src/index.js')).default : (await import('node-cron')).default;
  cron.setLogger(silentLogger);
  return cron;
}
