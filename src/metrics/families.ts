import { CATALOG, catalogSpec, type CatalogKey, type CatalogRow } from './catalog';
import type { Family, Registry } from './registry';

/** The catalog's families, registered once, addressed by key. */
export type CatalogMetrics = { readonly [K in CatalogKey]: Family };

export function registerCatalog(registry: Registry, prefix: string): CatalogMetrics {
  const out = {} as Record<CatalogKey, Family>;
  for (const key of Object.keys(CATALOG) as CatalogKey[]) {
    const family = registry.family(catalogSpec(key, prefix));
    // A label-less series exists from the start, at zero, on /metrics and over OTLP alike.
    const row: CatalogRow = CATALOG[key];
    if (family.spec.labels.length === 0 && !row.sampled) family.inc([], 0);
    out[key] = family;
  }
  return out;
}
