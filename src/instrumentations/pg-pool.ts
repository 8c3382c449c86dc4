import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { CatalogMetrics } from '../metrics/families';
import type { Registry } from '../metrics/registry';

interface PgPool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly ended?: boolean;
  connect(...args: unknown[]): unknown;
}

type Base = Pick<typeof import('@opentelemetry/instrumentation'), 'InstrumentationBase' | 'InstrumentationNodeModuleDefinition'>;

export interface PgPoolGauge extends Instrumentation {
  report(registry: Registry, metrics: CatalogMetrics): void;
}

/**
 * Finds the app's pg pools (at their first connect; an unused pool has no connections
 * to count) and reports idle/used connections at each scrape. Weak references: an app
 * that creates pools per request must not have them kept alive by us.
 *
 * Built on `base`, the `@opentelemetry/instrumentation` copy that instrumentation-pg uses: its
 * patch of pg-pool unwraps whatever wrapped `connect` before it, so ours must run after it,
 * and hooks run in the order they were added only within one copy's require hook (pg 0.78
 * brings a copy of its own, whose hook may sit inside or outside ours).
 */
export function createPgPoolGauge(base: Base): PgPoolGauge {
  return new (pgPoolGaugeClass(base))();
}

function pgPoolGaugeClass({ InstrumentationBase, InstrumentationNodeModuleDefinition }: Base) {
  return class PgPoolGaugeImpl extends InstrumentationBase implements PgPoolGauge {
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
  };
}
