import { InstrumentationBase, InstrumentationNodeModuleDefinition } from '@opentelemetry/instrumentation';
import type { CatalogMetrics } from '../metrics/families';
import type { Registry } from '../metrics/registry';

interface PgPool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly ended?: boolean;
  connect(...args: unknown[]): unknown;
}

/**
 * Finds the app's pg pools (at their first connect; an unused pool has no connections
 * to count) and reports idle/used connections at each scrape. Weak references: an app
 * that creates pools per request must not have them kept alive by us.
 */
export class PgPoolGauge extends InstrumentationBase {
  private readonly pools = new Set<WeakRef<PgPool>>();
  private readonly seen = new WeakSet<PgPool>();

  constructor() {
    super('@innatural/otel-pg-pool', '1.0.0', {});
  }

  protected init() {
    return [
      new InstrumentationNodeModuleDefinition(
        'pg-pool',
        ['>=2 <4'],
        (exports: { prototype: PgPool }) => {
          const track = (pool: PgPool) => {
            if (this.seen.has(pool)) return;
            this.seen.add(pool);
            this.pools.add(new WeakRef(pool));
          };
          this._wrap(exports.prototype, 'connect', (original: PgPool['connect']) =>
            function connect(this: PgPool, ...args: unknown[]) {
              track(this);
              return original.apply(this, args);
            },
          );
          return exports;
        },
        (exports: { prototype: PgPool }) => this._unwrap(exports.prototype, 'connect'),
      ),
    ];
  }

  report(registry: Registry, metrics: CatalogMetrics): void {
    registry.onCollect(() => {
      let total = 0;
      let idle = 0;
      for (const ref of this.pools) {
        const pool = ref.deref();
        if (!pool || pool.ended) {
          this.pools.delete(ref);
          continue;
        }
        total += pool.totalCount;
        idle += pool.idleCount;
      }
      if (this.pools.size === 0) return;
      metrics.dbConnections.set(['idle'], idle);
      metrics.dbConnections.set(['used'], total - idle);
    });
  }
}
