/**
 * Exemplars ride on a data point under this symbol: sdk-metrics' DataPoint has no such field,
 * and a symbol can never collide with one a later sdk-metrics adds (whose exemplars its own
 * serializer would then write, and ours would write twice).
 */
export const EXEMPLARS: unique symbol = Symbol.for('@innatural/otel.exemplars') as never;

/** What a producer puts there: hex ids of a sampled span, the recorded value, when (ms since the epoch). */
export interface PointExemplar {
  readonly traceId: string;
  readonly spanId: string;
  readonly value: number;
  readonly timeMs: number;
}

export interface WithExemplars {
  [EXEMPLARS]?: readonly PointExemplar[];
}

const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

/** Ids of the W3C shape, lowercase hex: what every sink of an exemplar writes out as it is. */
export function validIds(traceId: unknown, spanId: unknown): boolean {
  return typeof traceId === 'string' && typeof spanId === 'string' && TRACE_ID.test(traceId) && SPAN_ID.test(spanId);
}

/**
 * A point's exemplars, checked: a malformed one is a bug upstream, and it throws so that the
 * caller falls back to the stock bytes instead of sending something a collector may reject.
 */
export function exemplarsOf(point: unknown): readonly PointExemplar[] {
  const list = (point as WithExemplars | undefined)?.[EXEMPLARS];
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError('exemplars are not an array');
  for (const e of list as readonly PointExemplar[]) {
    if (!validIds(e?.traceId, e?.spanId)) throw new TypeError(`exemplar ids ${String(e?.traceId)}/${String(e?.spanId)}`);
    if (!Number.isFinite(e.value) || !Number.isFinite(e.timeMs) || e.timeMs < 0) throw new TypeError(`exemplar value ${e.value} at ${e.timeMs}`);
  }
  return list;
}

export const nanosOf = (timeMs: number): bigint => BigInt(Math.trunc(timeMs)) * 1_000_000n + BigInt(Math.round((timeMs % 1) * 1e6));

/** The points of a ResourceMetrics in the order every serializer writes them: scope, metric, point. */
export function pointExemplars(resourceMetrics: { scopeMetrics: readonly { metrics: readonly { dataPoints: readonly unknown[] }[] }[] }): Array<readonly PointExemplar[]> {
  const out: Array<readonly PointExemplar[]> = [];
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) for (const point of metric.dataPoints) out.push(exemplarsOf(point));
  }
  return out;
}

/** What serializeRequest takes and gives; the shape of otlp-transformer's ISerializer. */
export interface MetricsSerializer<Request, Response> {
  serializeRequest(request: Request): Uint8Array | undefined;
  deserializeResponse(data: Uint8Array): Response;
}
