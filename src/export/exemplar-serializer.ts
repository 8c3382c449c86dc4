import { diag } from '@opentelemetry/api';
import { describeError } from '../logging/logger';
import { patchJson, spliceProtobuf } from './exemplar-encoding';
import { pointExemplars, type MetricsSerializer, type PointExemplar } from './exemplars';

type Points = ReadonlyArray<readonly PointExemplar[]>;
const ADD: Record<'protobuf' | 'json', (stock: Uint8Array, points: Points) => Uint8Array> = { protobuf: spliceProtobuf, json: patchJson };

type ResourceMetricsLike = Parameters<typeof pointExemplars>[0];

/**
 * The stock metrics serializer, plus the exemplars our producer puts on its points (see
 * exemplar-encoding.ts for why on top of the stock bytes). A request without exemplars is the
 * stock request byte for byte; if adding them fails, the stock request goes out all the same,
 * and that is said once: an export is never lost to its exemplars.
 */
export function withExemplars<Request, Response>(stock: MetricsSerializer<Request, Response>, encoding: 'protobuf' | 'json'): MetricsSerializer<Request, Response> {
  let warned = false;
  return {
    serializeRequest(request) {
      const bytes = stock.serializeRequest(request);
      if (!bytes) return bytes;
      try {
        const points = pointExemplars(request as ResourceMetricsLike);
        return points.some((p) => p.length > 0) ? ADD[encoding](bytes, points) : bytes;
      } catch (err) {
        if (!warned) diag.warn(`OTLP metrics are exported without their exemplars: ${describeError(err)}`);
        warned = true;
        return bytes;
      }
    },
    deserializeResponse: (data) => stock.deserializeResponse(data),
  };
}
