/** The child side of a measurement: its parameters come in the environment, its result goes back over IPC. */

export const PARAMS_VARIABLE = 'FLEETCRON_BENCH_PARAMS';

export function params<T>(): T {
  const text = process.env[PARAMS_VARIABLE];
  if (text === undefined) throw new Error(`${PARAMS_VARIABLE} is not set: bench children are started by bench/run.ts`);
  return JSON.parse(text) as T;
}

/** Sends the result to the parent and exits once it is delivered. */
export function finish(result: unknown): void {
  if (!process.send) throw new Error('bench children need an IPC channel to their parent');
  process.send({ result }, () => process.exit(0));
}
