/**
 * What the health server's endpoints read: this process's metrics and checks, or, in a
 * cluster primary from the app's first fork on, the whole group's. One place decides, so
 * /metrics, the summary, the dashboard's history, /api/health and readiness agree.
 */
import { groupHealth, type WorkerReport } from '../cluster/group-health';
import type { ClusterPrimary } from '../cluster/primary';
import { CATALOG, type CatalogKey } from '../metrics/catalog';
import type { CatalogMetrics } from '../metrics/families';
import { Family, type Registry } from '../metrics/registry';
import type { CheckOutcome, HealthChecks } from '../health/checks/registry';
import type { GroupSample } from './history';
import { readiness } from '../health/report';
import { mergeStates, type InstrumentationStates } from '../health/instrumentation-states';

export interface MetricsView {
  readonly families: readonly Family[];
  readonly catalog: CatalogMetrics;
}

export interface HealthView {
  readonly outcomes: ReadonlyMap<string, CheckOutcome>;
  readonly ready: boolean;
  /** Why not ready. */
  readonly reason: string | undefined;
  readonly failing: string[];
  /** In a cluster primary: each worker, ready or why not. */
  readonly workers?: readonly WorkerReport[];
  /** In a cluster primary: some worker is not ready. */
  readonly degraded?: boolean;
}

export interface Views {
  /** undefined with OTEL_METRICS_EXPORTER=none. */
  readonly metrics: (() => Promise<MetricsView>) | undefined;
  readonly health: () => Promise<HealthView>;
  /** For the dashboard's history: undefined outside a cluster, where it reads the catalog directly. */
  readonly group: () => Promise<GroupSample | undefined>;
  /** This process's instrumentation states, with every worker's as of its last reply in a cluster. */
  readonly instrumentations: () => InstrumentationStates;
}

export interface ViewSources {
  readonly registry: Registry | undefined;
  readonly catalog: CatalogMetrics | undefined;
  readonly checks: HealthChecks;
  /** undefined in a process that cannot become a primary (a lone cluster worker). */
  readonly primary: ClusterPrimary | undefined;
  readonly instrumentations?: () => InstrumentationStates;
}

/** The catalog's families by key, found by name among the group's (an empty one if absent). */
function catalogOf(families: readonly Family[], local: CatalogMetrics): CatalogMetrics {
  const byName = new Map(families.map((f) => [f.spec.name, f]));
  const out = {} as Record<CatalogKey, Family>;
  for (const key of Object.keys(CATALOG) as CatalogKey[]) {
    const spec = local[key].spec;
    out[key] = byName.get(spec.name) ?? new Family(spec, 1);
  }
  return out;
}

function total(families: readonly Family[], name: string, combine: (a: number, b: number) => number): number {
  const family = families.find((f) => f.spec.name === name);
  return family ? family.all().reduce((n, s) => combine(n, s.value), 0) : 0;
}

export function healthViews({ registry, catalog, checks, primary, instrumentations }: ViewSources): Views {
  const inCluster = () => primary?.active === true;

  const metrics = async (): Promise<MetricsView> => {
    if (!inCluster()) {
      await registry!.collect();
      return { families: registry!.families, catalog: catalog! };
    }
    // In parallel: a late worker costs one wait, not one per step.
    await Promise.all([registry!.collect(), primary!.refresh()]);
    const families = primary!.families(registry!.families);
    return { families, catalog: catalogOf(families, catalog!) };
  };

  const health = async (): Promise<HealthView> => {
    if (!inCluster()) {
      const outcomes = await checks.results();
      const { ready, failing } = readiness(false, outcomes);
      return { outcomes, ready, failing, reason: ready ? undefined : `critical check failing: ${failing.join(', ')}` };
    }
    const [outcomes, workers] = await Promise.all([checks.results(), primary!.health()]);
    return groupHealth(outcomes, workers);
  };

  const group = async (): Promise<GroupSample | undefined> => {
    if (!inCluster() || !registry || !catalog) return undefined;
    const { families, catalog: groupCatalog } = await metrics();
    return {
      catalog: groupCatalog,
      rssBytes: total(families, 'process_resident_memory_bytes', (a, b) => a + b),
      heapUsedBytes: total(families, 'nodejs_heap_size_used_bytes', (a, b) => a + b),
      eventLoopLagP99Seconds: total(families, 'nodejs_eventloop_lag_p99_seconds', Math.max),
    };
  };

  const states = (): InstrumentationStates =>
    mergeStates([...(instrumentations ? [instrumentations()] : []), ...(inCluster() ? primary!.instrumentations() : [])]);

  return { metrics: registry && catalog ? metrics : undefined, health, group, instrumentations: states };
}
