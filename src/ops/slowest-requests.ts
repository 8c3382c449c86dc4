import type { CatalogMetrics } from '../metrics/families';

/** Older exemplars are not "recent": a bucket's exemplar stays until a newer request replaces it. */
export const SLOWEST_WINDOW_MS = 15 * 60 * 1000;
export const SLOWEST_LIMIT = 10;

export interface SlowRequest {
  readonly method: string;
  readonly route: string;
  readonly status: number;
  readonly durationMs: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly timestamp: string;
}

/**
 * The slowest recent sampled requests, from the request-duration histogram's exemplars: each
 * bucket of each series keeps its latest sampled request, so the slow buckets hold the slow ones.
 * Bounded by the histogram itself: no list of requests is kept for this.
 */
export function slowestRequests(m: CatalogMetrics, nowMs = Date.now(), limit = SLOWEST_LIMIT): SlowRequest[] {
  const out: SlowRequest[] = [];
  for (const s of m.httpRequestDuration.all()) {
    for (const e of s.exemplars ?? []) {
      if (!e || nowMs - e.timeMs > SLOWEST_WINDOW_MS) continue;
      out.push({
        method: s.labels[0] ?? '',
        route: s.labels[1] ?? '',
        status: Number(s.labels[2]),
        durationMs: Math.round(e.value * 1e6) / 1e3,
        traceId: e.traceId,
        spanId: e.spanId,
        timestamp: new Date(e.timeMs).toISOString(),
      });
    }
  }
  return out.sort((a, b) => b.durationMs - a.durationMs).slice(0, limit);
}
