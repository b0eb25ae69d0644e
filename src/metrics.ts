// The `fleetcron/metrics` entry: Prometheus metrics through prom-client, kept apart so the main entry never loads it.
export { registerMetrics, type FireOutcomeLabel, type FleetcronMetrics, type MetricsOptions } from './metrics/prometheus.js';
