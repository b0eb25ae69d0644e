/**
 * What there is one of per process, however fleetcron is loaded. An ES module app that requires a CommonJS library
 * which requires fleetcron loads both builds, each with its own module scope; their tasks, timer, coordinator,
 * logger, authority and daemon must still be one. Each such piece lives on `globalThis` under a registered symbol,
 * so every copy of fleetcron in the process (both builds, two installs) finds the one made first.
 *
 * The number in the symbol is the layout of these pieces: change it whenever a piece changes shape, so a copy of
 * another layout keeps its own state instead of misreading this one's.
 */
const STATE = Symbol.for('fleetcron.process-state.v1');

type Holder = typeof globalThis & { [STATE]?: Map<string, unknown> };

/** The process-wide piece called `name`, made by `create` when no copy of fleetcron has made it yet. */
export function processWide<T>(name: string, create: () => T): T {
  const holder = globalThis as Holder;
  const pieces = (holder[STATE] ??= new Map());
  if (!pieces.has(name)) pieces.set(name, create());
  return pieces.get(name) as T;
}
