import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ValueType } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import {
  AggregationTemporality,
  DataPointType,
  type GaugeMetricData,
  type HistogramMetricData,
  type MetricData,
  type SumMetricData,
} from '@opentelemetry/sdk-metrics';
import { Registry } from './registry';
import { registerCatalog } from './families';
import { LATENCY_BUCKETS } from './catalog';
import { RegistryProducer } from './otlp-producer';
import { EXEMPLARS } from '../export/exemplars';

function setup() {
  const registry = new Registry(1000);
  const metrics = registerCatalog(registry, 'innatural_chatbot');
  return { registry, metrics, producer: new RegistryProducer(registry) };
}

async function collectMetrics(producer: RegistryProducer): Promise<MetricData[]> {
  const result = await producer.collect();
  assert.deepEqual(result.errors, []);
  assert.equal(result.resourceMetrics.scopeMetrics.length, 1);
  return result.resourceMetrics.scopeMetrics[0]!.metrics;
}

function byName(metrics: MetricData[], name: string): MetricData {
  const m = metrics.find((x) => x.descriptor.name === name);
  assert.ok(m, `${name} not in ${metrics.map((x) => x.descriptor.name).join(', ')}`);
  return m;
}

describe('RegistryProducer', () => {
  it('returns one scope; a fresh catalog exports only its label-less family, at 0', async () => {
    const { producer } = setup();
    const result = await producer.collect();
    assert.equal(result.resourceMetrics.scopeMetrics.length, 1);
    assert.equal(result.resourceMetrics.scopeMetrics[0]!.scope.name, '@innatural/otel');
    const metrics = result.resourceMetrics.scopeMetrics[0]!.metrics;
    assert.deepEqual(
      metrics.map((m) => m.descriptor.name),
      ['innatural_chatbot_active_sessions'],
    );
    const g = metrics[0] as GaugeMetricData;
    assert.equal(g.dataPointType, DataPointType.GAUGE);
    assert.equal(g.dataPoints.length, 1);
    assert.equal(g.dataPoints[0]!.value, 0);
    assert.deepEqual(g.dataPoints[0]!.attributes, {});
  });

  it('exports a counter as a monotonic cumulative SUM under the catalog name', async () => {
    const { metrics, producer } = setup();
    metrics.httpRequests.inc(['GET', '/api/chat', '200'], 3);
    metrics.httpRequests.inc(['POST', '/api/chat', '500']);
    const m = byName(await collectMetrics(producer), 'innatural_chatbot_http_requests_total') as SumMetricData;
    assert.equal(m.dataPointType, DataPointType.SUM);
    assert.equal(m.isMonotonic, true);
    assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(m.descriptor.description, 'Total number of HTTP requests');
    assert.equal(m.descriptor.unit, '');
    assert.equal(m.descriptor.valueType, ValueType.DOUBLE);
    assert.deepEqual(
      m.dataPoints.map((p) => [p.attributes, p.value]),
      [
        [{ method: 'GET', route: '/api/chat', status_code: '200' }, 3],
        [{ method: 'POST', route: '/api/chat', status_code: '500' }, 1],
      ],
    );
  });

  it('is cumulative across collections', async () => {
    const { metrics, producer } = setup();
    metrics.errors.inc(['db', 'error']);
    const first = byName(await collectMetrics(producer), 'innatural_chatbot_errors_total') as SumMetricData;
    metrics.errors.inc(['db', 'error'], 2);
    const second = byName(await collectMetrics(producer), 'innatural_chatbot_errors_total') as SumMetricData;
    assert.equal(first.dataPoints[0]!.value, 1);
    assert.equal(second.dataPoints[0]!.value, 3);
    assert.deepEqual(first.dataPoints[0]!.startTime, second.dataPoints[0]!.startTime);
  });

  it('exports a gauge as GAUGE', async () => {
    const { metrics, producer } = setup();
    metrics.dbConnections.set(['idle'], 4);
    metrics.dbConnections.set(['used'], 1);
    const m = byName(await collectMetrics(producer), 'innatural_chatbot_db_connections') as GaugeMetricData;
    assert.equal(m.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(
      m.dataPoints.map((p) => [p.attributes, p.value]),
      [
        [{ state: 'idle' }, 4],
        [{ state: 'used' }, 1],
      ],
    );
  });

  it('exports a histogram with boundaries equal to the buckets and per-bucket counts', async () => {
    const { metrics, producer } = setup();
    const labels = ['GET', '/api/chat', '200'];
    metrics.httpRequestDuration.observe(labels, 0.1); // le 0.1
    metrics.httpRequestDuration.observe(labels, 0.3); // le 0.5
    metrics.httpRequestDuration.observe(labels, 0.4); // le 0.5
    metrics.httpRequestDuration.observe(labels, 7); // le 10
    metrics.httpRequestDuration.observe(labels, 20); // +Inf
    const m = byName(
      await collectMetrics(producer),
      'innatural_chatbot_http_request_duration_seconds',
    ) as HistogramMetricData;
    assert.equal(m.dataPointType, DataPointType.HISTOGRAM);
    assert.equal(m.aggregationTemporality, AggregationTemporality.CUMULATIVE);
    assert.equal(m.descriptor.unit, 's');
    assert.equal(m.dataPoints.length, 1);
    const p = m.dataPoints[0]!;
    assert.deepEqual(p.attributes, { method: 'GET', route: '/api/chat', status_code: '200' });
    assert.deepEqual(p.value.buckets.boundaries, [...LATENCY_BUCKETS]);
    assert.deepEqual(p.value.buckets.counts, [1, 2, 0, 0, 0, 1, 1]);
    assert.equal(p.value.count, 5);
    assert.ok(Math.abs(p.value.sum! - 27.8) < 1e-9);
  });

  it('returns a snapshot: later recording does not change collected bucket counts', async () => {
    const { metrics, producer } = setup();
    metrics.dbQueryDuration.observe(['SELECT', 'postgresql'], 0.002);
    const m = byName(await collectMetrics(producer), 'innatural_chatbot_db_query_duration_seconds') as HistogramMetricData;
    metrics.dbQueryDuration.observe(['SELECT', 'postgresql'], 0.002);
    assert.deepEqual(m.dataPoints[0]!.value.buckets.counts, [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(m.dataPoints[0]!.value.count, 1);
  });

  it('omits families with no series', async () => {
    const { metrics, producer } = setup();
    metrics.messages.inc(['user', 'en']);
    const names = (await collectMetrics(producer)).map((m) => m.descriptor.name).sort();
    assert.deepEqual(names, ['innatural_chatbot_active_sessions', 'innatural_chatbot_messages_total']);
  });

  it('keys overflow attributes by label names', async () => {
    const registry = new Registry(1);
    const metrics = registerCatalog(registry, 'innatural_chatbot');
    metrics.redisOperations.inc(['get', 'success']);
    metrics.redisOperations.inc(['set', 'success']);
    const m = byName(await collectMetrics(new RegistryProducer(registry)), 'innatural_chatbot_redis_operations_total') as SumMetricData;
    assert.deepEqual(
      m.dataPoints.map((p) => p.attributes),
      [
        { operation: 'get', status: 'success' },
        { operation: '_overflow', status: '_overflow' },
      ],
    );
  });

  it('puts the series exemplars on their points (a histogram\'s in bucket order), and none where there are none', async () => {
    const { metrics, producer } = setup();
    const T = '0af7651916cd43dd8448eb211c80319c';
    const ids = (spanId: string) => ({ traceId: T, spanId, traceFlags: 1 });
    const labels = ['GET', '/api/users/:id', '200'];
    metrics.httpRequestDuration.observe(labels, 30, ids('00000000000000b1')); // +Inf
    metrics.httpRequestDuration.observe(labels, 0.003, ids('00000000000000a1'));
    metrics.httpRequestDuration.observe(['GET', '/quiet', '200'], 0.003);
    metrics.httpRequests.inc(labels, 1, ids('00000000000000c1'));
    const all = await collectMetrics(producer);
    const lat = byName(all, 'innatural_chatbot_http_request_duration_seconds') as HistogramMetricData;
    const of = (p: object) => (p as { [EXEMPLARS]?: unknown })[EXEMPLARS];
    const kept = of(lat.dataPoints[0]!) as { spanId: string; value: number; traceId: string; timeMs: number }[];
    assert.deepEqual(kept.map((e) => [e.traceId, e.spanId, e.value]), [[T, '00000000000000a1', 0.003], [T, '00000000000000b1', 30]]);
    assert.ok(Math.abs(kept[0]!.timeMs - Date.now()) < 5000);
    assert.equal(of(lat.dataPoints[1]!), undefined);
    assert.equal(Object.getOwnPropertySymbols(lat.dataPoints[1]!).length, 0);
    const req = byName(all, 'innatural_chatbot_http_requests_total') as SumMetricData;
    assert.deepEqual((of(req.dataPoints[0]!) as { spanId: string }[]).map((e) => e.spanId), ['00000000000000c1']);
  });

  it('runs the registry collectors first', async () => {
    const { registry, metrics, producer } = setup();
    registry.onCollect(() => metrics.dbConnections.set(['idle'], 9));
    registry.onCollect(() => {
      throw new Error('broken sampler');
    });
    const m = byName(await collectMetrics(producer), 'innatural_chatbot_db_connections') as GaugeMetricData;
    assert.equal(m.dataPoints[0]!.value, 9);
  });

  it('stamps points with the series start time and the collection time', async () => {
    const { metrics, producer } = setup();
    const before = Date.now();
    metrics.userFeedback.inc(['positive']);
    const m = byName(await collectMetrics(producer), 'innatural_chatbot_user_feedback_total') as SumMetricData;
    const after = Date.now();
    const p = m.dataPoints[0]!;
    const start = hrTimeToMilliseconds(p.startTime);
    const end = hrTimeToMilliseconds(p.endTime);
    assert.ok(start >= before && start <= end && end <= after + 1, `${before} ${start} ${end} ${after}`);
  });

  it('uses the prefix given to the catalog', async () => {
    const registry = new Registry(10);
    registerCatalog(registry, 'shop');
    const names = (await collectMetrics(new RegistryProducer(registry))).map((m) => m.descriptor.name);
    assert.deepEqual(names, ['shop_active_sessions']);
  });
});
