/** How a host's workers reach Redis, in the upstream-commands bench. */
export const FLEET_MODELS = ['authority', 'per-worker', 'node-cron'] as const;
export type FleetModel = (typeof FLEET_MODELS)[number];

export const FLEET_SETUPS: Record<FleetModel, string> = {
  authority: 'fleetcron: serveCluster() + RedisLockCoordinator in the primary',
  'per-worker': 'fleetcron: a RedisLockCoordinator in each worker',
  'node-cron': 'node-cron 4.6: a Redis lock in each worker',
};
