import type { CatalogMetrics } from '../metrics/families';
import type { Registry } from '../metrics/registry';
import type { ShutdownState } from '../health/shutdown-state';
import type { HealthView } from './views';

/**
 * Readiness and each check as gauges, so Prometheus can alert on what the probes see. Sampled at
 * each collection from the same cached, single-flight results the endpoints use: a scrape adds
 * no check beyond one per cache period. In a cluster primary, the group's.
 */
export function reportHealthMetrics(registry: Registry, catalog: CatalogMetrics, health: () => Promise<HealthView>, shutdown: ShutdownState): void {
  registry.onCollect(async () => {
    const view = await health();
    catalog.ready.set([], !shutdown.shuttingDown && view.ready ? 1 : 0);
    catalog.healthCheckUp.clear();
    for (const [name, { result }] of view.outcomes) catalog.healthCheckUp.set([name], result.status === 'healthy' ? 1 : 0);
  });
}
