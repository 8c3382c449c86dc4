import type { CatalogMetrics } from '../metrics/catalog-metrics';
import type { Registry } from '../metrics/registry';
import type { HealthChecks } from './checks/registry';
import type { ShutdownState } from './lifecycle';
import { readiness } from './report';

/**
 * Readiness and each check as gauges, so Prometheus can alert on what the probes see. Sampled at
 * each collection from the same cached, single-flight results the endpoints use: a scrape adds
 * no check beyond one per cache period.
 */
export function reportHealthMetrics(registry: Registry, catalog: CatalogMetrics, checks: HealthChecks, shutdown: ShutdownState): void {
  registry.onCollect(async () => {
    const outcomes = await checks.results();
    catalog.ready.set([], readiness(shutdown.shuttingDown, outcomes).ready ? 1 : 0);
    catalog.healthCheckUp.clear();
    for (const [name, { result }] of outcomes) catalog.healthCheckUp.set([name], result.status === 'healthy' ? 1 : 0);
  });
}
