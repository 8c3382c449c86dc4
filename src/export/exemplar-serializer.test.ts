import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { diag, DiagLogLevel, ValueType } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { parseRequest, type SinkEncoding, type SinkMetric } from '../../test/support/otlp-sink';
import { withExemplars } from './exemplar-serializer';
import { EXEMPLARS, type MetricsSerializer, type PointExemplar } from './exemplars';

const T1 = '0af7651916cd43dd8448eb211c80319c';
const S1 = 'b7ad6b7169203331';
const T2 = '4bf92f3577b34da6a3ce929d0e0e4736';
const S2 = '00f067aa0ba902b7';
const TIME_MS = 1_767_225_600_123;

const STOCK: Record<SinkEncoding, MetricsSerializer<ResourceMetrics, unknown>> = { protobuf: ProtobufMetricsSerializer, json: JsonMetricsSerializer };
const ENCODINGS = ['protobuf', 'json'] as const;

const descriptor = (name: string) => ({ name, description: `${name} help`, unit: 's', valueType: ValueType.DOUBLE });
const point = <T>(value: T, route: string, exemplars?: PointExemplar[]) => ({
  startTime: [1_767_225_000, 5] as [number, number],
  endTime: [1_767_225_660, 7] as [number, number],
  attributes: { route },
  value,
  ...(exemplars ? { [EXEMPLARS]: exemplars } : {}),
});
const histogram = (count: number) => ({ buckets: { boundaries: [0.1, 1], counts: [count, 0, 0] }, sum: 0.05 * count, count });

/** Two scopes, each point kind; `withIds` false gives the same data without a single exemplar. */
function request(withIds: boolean, manyRoutes = 0): ResourceMetrics {
  const ids = (e: PointExemplar[]) => (withIds ? e : undefined);
  const sum: MetricData = {
    descriptor: descriptor('req_total'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: [point(3, '/a', ids([{ traceId: T1, spanId: S1, value: 1, timeMs: TIME_MS }])), point(4, '/b')],
  };
  const lat: MetricData = {
    descriptor: descriptor('lat_seconds'),
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: [
      point(histogram(2), '/a', ids([{ traceId: T1, spanId: S1, value: 0.05, timeMs: TIME_MS }, { traceId: T2, spanId: S2, value: 5, timeMs: TIME_MS + 1 }])),
      ...Array.from({ length: manyRoutes }, (_, i) => point(histogram(i), `/route/${i}`, ids([{ traceId: T2, spanId: S2, value: i, timeMs: TIME_MS }]))),
    ],
  };
  const gauge: MetricData = { descriptor: descriptor('sessions'), dataPointType: DataPointType.GAUGE, aggregationTemporality: AggregationTemporality.CUMULATIVE, dataPoints: [point(7, '/a')] };
  return {
    resource: resourceFromAttributes({ 'service.name': 'chatbot' }),
    scopeMetrics: [
      { scope: { name: 'ours', version: '1' }, metrics: [sum, lat] },
      { scope: { name: 'sdk' }, metrics: [gauge, { ...sum, dataPoints: [point(9, '/c', ids([{ traceId: T2, spanId: S2, value: 2, timeMs: TIME_MS }]))] }] },
    ],
  };
}

const decode = (encoding: SinkEncoding, bytes: Uint8Array): SinkMetric[] => parseRequest('ExportMetricsServiceRequest', encoding, Buffer.from(bytes)).metrics;
const withoutExemplars = (metrics: SinkMetric[]) => metrics.map((m) => ({ ...m, points: m.points.map((p) => ({ ...p, exemplars: [] })) }));
const nanos = (ms: number) => BigInt(ms) * 1_000_000n;

describe('withExemplars', () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: a request without exemplars is the stock request byte for byte`, () => {
      const rm = request(false);
      assert.deepEqual(withExemplars(STOCK[encoding], encoding).serializeRequest(rm), STOCK[encoding].serializeRequest(rm));
    });

    it(`${encoding}: each point carries its own exemplars, and nothing else changes`, () => {
      const rm = request(true);
      const metrics = decode(encoding, withExemplars(STOCK[encoding], encoding).serializeRequest(rm)!);
      assert.deepEqual(withoutExemplars(metrics), decode(encoding, STOCK[encoding].serializeRequest(rm)!));
      const [sum, lat, gauge, sdkSum] = metrics;
      const one = (traceId: string, spanId: string, value: number, ms: number) => ({ traceId, spanId, value, timeUnixNano: nanos(ms), filteredAttributes: {} });
      assert.deepEqual(sum!.points.map((p) => p.exemplars), [[one(T1, S1, 1, TIME_MS)], []]);
      assert.deepEqual(lat!.points[0]!.exemplars, [one(T1, S1, 0.05, TIME_MS), one(T2, S2, 5, TIME_MS + 1)]);
      assert.deepEqual(gauge!.points[0]!.exemplars, []);
      assert.deepEqual(sdkSum!.points[0]!.exemplars, [one(T2, S2, 2, TIME_MS)]);
    });

    it(`${encoding}: messages whose lengths grow past one and two varint bytes stay intact`, () => {
      const rm = request(true, 400);
      const bytes = withExemplars(STOCK[encoding], encoding).serializeRequest(rm)!;
      assert.ok(bytes.length > 16_384, `${bytes.length} bytes`);
      const metrics = decode(encoding, bytes);
      assert.deepEqual(withoutExemplars(metrics), decode(encoding, STOCK[encoding].serializeRequest(rm)!));
      assert.deepEqual(metrics[1]!.points.slice(1).map((p) => p.exemplars[0]!.value), Array.from({ length: 400 }, (_, i) => i));
    });

    it(`${encoding}: a malformed exemplar sends the stock request, and says so once`, () => {
      const warnings: string[] = [];
      diag.setLogger({ warn: (m: string) => warnings.push(m), error() {}, info() {}, debug() {}, verbose() {} }, DiagLogLevel.WARN);
      try {
        const rm = request(true);
        (rm.scopeMetrics[0]!.metrics[0]!.dataPoints[0] as unknown as Record<symbol, unknown>)[EXEMPLARS] = [{ traceId: 'zz', spanId: S1, value: 1, timeMs: 0 }];
        const serializer = withExemplars(STOCK[encoding], encoding);
        assert.deepEqual(serializer.serializeRequest(rm), STOCK[encoding].serializeRequest(rm));
        serializer.serializeRequest(rm);
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0]!, /without their exemplars: exemplar ids zz\//);
      } finally {
        diag.disable();
      }
    });
  }

  it('stock bytes it cannot walk, or whose points do not line up, go out as they are', () => {
    diag.disable();
    const rm = request(true);
    const garbage = Uint8Array.from([0x0a, 0xff, 0xff]);
    const fake = (bytes: Uint8Array | undefined) => ({ serializeRequest: () => bytes, deserializeResponse: () => ({}) });
    assert.equal(withExemplars(fake(garbage), 'protobuf').serializeRequest(rm), garbage);
    const fewer = ProtobufMetricsSerializer.serializeRequest({ ...rm, scopeMetrics: rm.scopeMetrics.slice(0, 1) })!;
    assert.equal(withExemplars(fake(fewer), 'protobuf').serializeRequest(rm), fewer);
    const fewerJson = JsonMetricsSerializer.serializeRequest({ ...rm, scopeMetrics: rm.scopeMetrics.slice(1) })!;
    assert.equal(withExemplars(fake(fewerJson), 'json').serializeRequest(rm), fewerJson);
    assert.equal(withExemplars(fake(undefined), 'json').serializeRequest(rm), undefined);
  });
});
