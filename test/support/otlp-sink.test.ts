/**
 * Proves the sink decodes what the real OpenTelemetry exporters send, so the
 * integration tests built on it can trust what it reports.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, ValueType, trace, type SpanContext } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api';
import { OTLPLogExporter as HttpLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPMetricExporter as HttpMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { LoggerProvider, SimpleLogRecordProcessor, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { TracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';
import { startOtlpSink, type OtlpSink, type SinkEncoding } from './otlp-sink';
import { decodeMessage, OTLP_SCHEMAS, type SchemaSet } from './protobuf';

const RESOURCE_ATTRIBUTES = { 'service.name': 'sink-test', 'service.version': '9.9.9' };
const SCOPE = { name: 'sink-test-scope', version: '1.2.3' };

// The exporters type `compression` as an enum from a package this one does not depend on directly.
type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;

async function withSink(fn: (sink: OtlpSink) => Promise<void>): Promise<void> {
  const sink = await startOtlpSink();
  try {
    await fn(sink);
  } finally {
    await sink.close();
  }
}

async function exportSampleTrace(exporter: SpanExporter): Promise<{ parent: SpanContext; child: SpanContext }> {
  const provider = new TracerProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  const tracer = provider.getTracer(SCOPE.name, SCOPE.version);
  const parent = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER });
  const child = tracer.startSpan(
    'SELECT orders',
    {
      kind: SpanKind.CLIENT,
      attributes: {
        'db.system': 'postgresql',
        'db.rows': 42,
        'db.offset': -7,
        'db.ratio': 0.25,
        'db.cached': false,
        'db.tables': ['orders', 'customers'],
        'db.shards': [1, 2, 3],
      },
    },
    trace.setSpan(ROOT_CONTEXT, parent),
  );
  child.addEvent('retry', { attempt: 2, reason: 'deadlock' });
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  child.end();
  parent.setStatus({ code: SpanStatusCode.OK });
  parent.end();
  await provider.forceFlush();
  await provider.shutdown();
  return { parent: parent.spanContext(), child: child.spanContext() };
}

async function assertSampleTrace(sink: OtlpSink, exporter: SpanExporter, encoding: SinkEncoding): Promise<void> {
  const ids = await exportSampleTrace(exporter);
  const [parent, child] = await sink.waitFor(() => {
    const p = sink.spans.find((s) => s.name === 'GET /orders');
    const c = sink.spans.find((s) => s.name === 'SELECT orders');
    return p && c && ([p, c] as const);
  });

  assert.equal(parent.traceId, ids.parent.traceId);
  assert.match(parent.traceId, /^[0-9a-f]{32}$/);
  assert.equal(parent.spanId, ids.parent.spanId);
  assert.equal(parent.parentSpanId, '');
  assert.equal(parent.kind, 2, 'SERVER is 2 in OTLP');
  assert.deepEqual(parent.status, { code: 1, message: '' });

  assert.equal(child.traceId, ids.parent.traceId);
  assert.equal(child.spanId, ids.child.spanId);
  assert.equal(child.parentSpanId, ids.parent.spanId);
  assert.equal(child.kind, 3, 'CLIENT is 3 in OTLP');
  assert.deepEqual(child.attributes, {
    'db.system': 'postgresql',
    'db.rows': 42,
    'db.offset': -7,
    'db.ratio': 0.25,
    'db.cached': false,
    'db.tables': ['orders', 'customers'],
    'db.shards': [1, 2, 3],
  });
  assert.equal(child.events.length, 1);
  assert.equal(child.events[0]!.name, 'retry');
  assert.deepEqual(child.events[0]!.attributes, { attempt: 2, reason: 'deadlock' });
  assert.deepEqual(child.status, { code: 2, message: 'boom' });
  assert.equal(child.flags & 0xff, TraceFlags.SAMPLED);

  for (const span of [parent, child]) {
    assert.equal(typeof span.startTimeUnixNano, 'bigint');
    // Sanity-check the 64-bit timestamps: after 2020 and not before the start.
    assert.ok(span.startTimeUnixNano > 1_577_836_800_000_000_000n);
    assert.ok(span.endTimeUnixNano >= span.startTimeUnixNano);
    assert.deepEqual(span.scope, SCOPE);
    assert.equal(span.resource['service.name'], 'sink-test');
    assert.equal(span.resource['service.version'], '9.9.9');
    assert.equal(span.encoding, encoding);
  }

  const req = sink.requests[0]!;
  assert.equal(req.path, '/v1/traces');
  assert.equal(req.encoding, encoding);
  assert.equal(req.contentType, encoding === 'json' ? 'application/json' : 'application/x-protobuf');
  assert.ok(sink.requests.some((r) => r.bytes.includes('SELECT orders')));
}

test('decodes traces from the protobuf exporter', () =>
  withSink(async (sink) => {
    await assertSampleTrace(sink, new ProtoTraceExporter({ url: `${sink.url}/v1/traces` }), 'protobuf');
  }));

test('decodes traces from the JSON exporter', () =>
  withSink(async (sink) => {
    await assertSampleTrace(sink, new HttpTraceExporter({ url: `${sink.url}/v1/traces` }), 'json');
  }));

test('decodes gzip-compressed requests', () =>
  withSink(async (sink) => {
    await assertSampleTrace(sink, new ProtoTraceExporter({ url: `${sink.url}/v1/traces`, compression: GZIP }), 'protobuf');
    assert.ok(sink.requests.every((r) => r.contentEncoding === 'gzip'));
    sink.clear();
    await assertSampleTrace(sink, new HttpTraceExporter({ url: `${sink.url}/v1/traces`, compression: GZIP }), 'json');
    assert.ok(sink.requests.every((r) => r.contentEncoding === 'gzip'));
  }));

async function exportSampleMetrics(exporter: PushMetricExporter): Promise<void> {
  const provider = new MeterProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    // A long interval so that only forceFlush exports.
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })],
  });
  const meter = provider.getMeter(SCOPE.name, SCOPE.version);
  const requests = meter.createCounter('http.requests', { description: 'Requests served', unit: '{request}' });
  requests.add(3, { route: '/a' });
  requests.add(2, { route: '/a' });
  requests.add(1.5, { route: '/b' });
  meter.createCounter('jobs.done', { valueType: ValueType.INT }).add(7);
  meter.createGauge('queue.depth').record(-3.5);
  const latency = meter.createHistogram('http.latency', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 100, 1000] } });
  for (const ms of [5, 50, 500, 5000]) latency.record(ms, { route: '/a' });
  await provider.forceFlush();
  await provider.shutdown();
}

async function assertSampleMetrics(sink: OtlpSink, exporter: PushMetricExporter, encoding: SinkEncoding): Promise<void> {
  await exportSampleMetrics(exporter);
  const byName = await sink.waitFor(() => {
    const names = ['http.requests', 'jobs.done', 'queue.depth', 'http.latency'];
    const found = names.map((name) => sink.metrics.find((m) => m.name === name));
    return found.every((m) => m !== undefined) && new Map(found.map((m) => [m.name, m]));
  });

  const requests = byName.get('http.requests')!;
  assert.equal(requests.type, 'sum');
  assert.equal(requests.description, 'Requests served');
  assert.equal(requests.unit, '{request}');
  assert.equal(requests.isMonotonic, true);
  assert.equal(requests.temporality, 2, 'cumulative');
  assert.deepEqual(
    requests.points.map((p) => [p.attributes, p.value]),
    [
      [{ route: '/a' }, 5],
      [{ route: '/b' }, 1.5],
    ],
  );
  assert.deepEqual(requests.scope, SCOPE);
  assert.equal(requests.resource['service.name'], 'sink-test');
  assert.equal(requests.encoding, encoding);

  const jobs = byName.get('jobs.done')!;
  assert.equal(jobs.type, 'sum');
  assert.equal(jobs.points[0]!.value, 7);

  const depth = byName.get('queue.depth')!;
  assert.equal(depth.type, 'gauge');
  assert.equal(depth.points[0]!.value, -3.5);

  const latency = byName.get('http.latency')!;
  assert.equal(latency.type, 'histogram');
  assert.equal(latency.unit, 'ms');
  assert.equal(latency.temporality, 2);
  const point = latency.points[0]!;
  assert.deepEqual(point.attributes, { route: '/a' });
  assert.equal(point.count, 4);
  assert.equal(point.sum, 5555);
  assert.equal(point.min, 5);
  assert.equal(point.max, 5000);
  assert.deepEqual(point.explicitBounds, [10, 100, 1000]);
  assert.deepEqual(point.bucketCounts, [1, 1, 1, 1]);
  assert.ok(point.timeUnixNano >= point.startTimeUnixNano && point.startTimeUnixNano > 0n);
}

test('decodes metrics from the protobuf exporter', () =>
  withSink(async (sink) => {
    await assertSampleMetrics(sink, new ProtoMetricExporter({ url: `${sink.url}/v1/metrics` }), 'protobuf');
  }));

test('decodes metrics from the JSON exporter', () =>
  withSink(async (sink) => {
    await assertSampleMetrics(sink, new HttpMetricExporter({ url: `${sink.url}/v1/metrics` }), 'json');
  }));

async function assertSampleLogs(sink: OtlpSink, exporter: LogRecordExporter, encoding: SinkEncoding): Promise<void> {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(RESOURCE_ATTRIBUTES),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  const logger = provider.getLogger(SCOPE.name, SCOPE.version);
  const spanContext: SpanContext = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
  };
  logger.emit({
    severityNumber: SeverityNumber.WARN,
    severityText: 'WARN',
    body: 'disk almost full',
    attributes: { 'disk.free': 0.05, mount: '/var' },
    context: trace.setSpanContext(ROOT_CONTEXT, spanContext),
  });
  logger.emit({ severityNumber: SeverityNumber.INFO, body: { msg: 'structured', count: 3, nested: { ok: true } } });
  await provider.forceFlush();
  await provider.shutdown();

  const [warn, info] = await sink.waitFor(() => sink.logs.length >= 2 && sink.logs);
  assert.equal(warn!.body, 'disk almost full');
  assert.equal(warn!.severityNumber, SeverityNumber.WARN);
  assert.equal(warn!.severityText, 'WARN');
  assert.deepEqual(warn!.attributes, { 'disk.free': 0.05, mount: '/var' });
  assert.equal(warn!.traceId, spanContext.traceId);
  assert.equal(warn!.spanId, spanContext.spanId);
  assert.equal(warn!.flags, TraceFlags.SAMPLED);
  assert.ok(warn!.timeUnixNano > 0n && warn!.observedTimeUnixNano > 0n);
  assert.deepEqual(warn!.scope, SCOPE);
  assert.equal(warn!.resource['service.name'], 'sink-test');
  assert.equal(warn!.encoding, encoding);

  assert.deepEqual(info!.body, { msg: 'structured', count: 3, nested: { ok: true } });
  assert.equal(info!.traceId, '');
  assert.equal(info!.spanId, '');
}

test('decodes logs from the protobuf exporter', () =>
  withSink(async (sink) => {
    await assertSampleLogs(sink, new ProtoLogExporter({ url: `${sink.url}/v1/logs` }), 'protobuf');
  }));

test('decodes logs from the JSON exporter', () =>
  withSink(async (sink) => {
    await assertSampleLogs(sink, new HttpLogExporter({ url: `${sink.url}/v1/logs` }), 'json');
  }));

/** One request on a fresh connection, so keep-alive pooling cannot blur connection-level behaviour. */
function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  method = 'POST',
): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: res.headers['content-type'] ?? '',
          body: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_HEADERS = { 'Content-Type': 'application/json' };
const PROTO_HEADERS = { 'Content-Type': 'application/x-protobuf' };

/** OTLP/JSON the way other SDKs may write it: int64 as strings, uppercase hex ids, enums as ints. */
function handWrittenTrace(spans: unknown[]): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'hand-written' } }] },
        scopeSpans: [{ scope: { name: 'manual' }, spans }],
      },
    ],
  });
}

const HAND_WRITTEN_SPAN = {
  traceId: '5B8EFFF798038103D269B633813FC60C',
  spanId: 'EEE19B7EC3C1B174',
  name: 'hand-written',
  kind: 1,
  startTimeUnixNano: '1700000000000000000',
  endTimeUnixNano: 1700000000500000000,
  attributes: [
    { key: 'big', value: { intValue: '9007199254740991' } },
    { key: 'small', value: { intValue: 3 } },
    { key: 'inf', value: { doubleValue: 'Infinity' } },
    { key: 'raw', value: { bytesValue: Buffer.from('hi').toString('base64') } },
    { key: 'map', value: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: {} } }] } } },
  ],
  status: {},
};

test('accepts OTLP/JSON variants beyond what the JS exporter writes', () =>
  withSink(async (sink) => {
    const res = await post(`${sink.url}/v1/traces`, handWrittenTrace([HAND_WRITTEN_SPAN]), JSON_HEADERS);
    assert.equal(res.status, 200);
    assert.equal(res.contentType, 'application/json');
    const span = sink.spans[0]!;
    assert.equal(span.traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(span.spanId, 'eee19b7ec3c1b174');
    assert.equal(span.startTimeUnixNano, 1_700_000_000_000_000_000n);
    assert.deepEqual(span.attributes, {
      big: Number.MAX_SAFE_INTEGER,
      small: 3,
      inf: Infinity,
      raw: Buffer.from('hi'),
      map: { a: [] },
    });
    assert.deepEqual(span.status, { code: 0, message: '' });
    assert.deepEqual(span.scope, { name: 'manual', version: '' });
  }));

test('answers 4xx to malformed or unsupported requests and records nothing', () =>
  withSink(async (sink) => {
    const cases: [string, string | Buffer, Record<string, string>, number, string?][] = [
      ['/v1/traces', Buffer.from([0x0a, 0xff, 0xff]), PROTO_HEADERS, 400], // truncated length prefix
      ['/v1/traces', Buffer.from([0x0b, 0x00]), PROTO_HEADERS, 400], // wire type 3 (group)
      ['/v1/logs', Buffer.from('not protobuf at all'), PROTO_HEADERS, 400],
      ['/v1/metrics', '{"resourceMetrics": [', JSON_HEADERS, 400],
      ['/v1/traces', '"just a string"', JSON_HEADERS, 400],
      ['/v1/traces', handWrittenTrace([HAND_WRITTEN_SPAN, { ...HAND_WRITTEN_SPAN, spanId: 'not-hex' }]), JSON_HEADERS, 400],
      ['/v1/traces', Buffer.from('{}'), { ...JSON_HEADERS, 'Content-Encoding': 'gzip' }, 400],
      ['/v1/traces', '{}', { 'Content-Type': 'text/plain' }, 415],
      ['/v1/traces', '{}', { ...JSON_HEADERS, 'Content-Encoding': 'br' }, 415],
      ['/v1/profiles', '{}', JSON_HEADERS, 404],
      ['/v1/traces', '', {}, 405, 'GET'],
    ];
    for (const [path, body, headers, status, method] of cases) {
      const res = await post(`${sink.url}${path}`, body, headers, method);
      assert.equal(res.status, status, `${path} ${String(body).slice(0, 30)} -> ${res.body}`);
    }
    assert.deepEqual([sink.spans, sink.metrics, sink.logs, sink.requests], [[], [], [], []]);
    assert.equal(sink.rejections.length, cases.length);

    // Still healthy afterwards, and gzip through a hand-made request works too.
    const res = await post(`${sink.url}/v1/traces`, gzipSync(handWrittenTrace([HAND_WRITTEN_SPAN])), {
      ...JSON_HEADERS,
      'Content-Encoding': 'gzip',
    });
    assert.equal(res.status, 200);
    assert.equal(sink.spans.length, 1);
  }));

test('setMode simulates a broken collector', () =>
  withSink(async (sink) => {
    const url = `${sink.url}/v1/traces`;
    const body = handWrittenTrace([HAND_WRITTEN_SPAN]);

    await sink.setMode('error500');
    assert.equal((await post(url, body, JSON_HEADERS)).status, 500);

    await sink.setMode('refuse');
    await assert.rejects(post(url, body, JSON_HEADERS), { code: 'ECONNREFUSED' });

    await sink.setMode('blackhole');
    const hanging = post(url, body, JSON_HEADERS);
    await sink.waitFor(() => sink.rejections.some((r) => r.status === 0));
    await sink.setMode('ok');
    assert.equal((await post(url, body, JSON_HEADERS)).status, 200);
    assert.equal(sink.spans.length, 1, 'only the request answered in ok mode counts');

    // close() must not wait for the request left hanging.
    await sink.close();
    await assert.rejects(hanging, { code: 'ECONNRESET' });
  }));

test('waitFor times out with a summary of what arrived', () =>
  withSink(async (sink) => {
    await post(`${sink.url}/v1/traces`, handWrittenTrace([HAND_WRITTEN_SPAN]), JSON_HEADERS);
    await assert.rejects(
      sink.waitFor(() => sink.spans.find((s) => s.name === 'never'), 100),
      /within 100 ms; received spans: \["hand-written"\], metrics: \[\], logs: 0/,
    );
    sink.clear();
    assert.equal(sink.spans.length, 0);
  }));

test('protobuf schema references resolve and unpacked repeated fields decode', () => {
  const schemas: SchemaSet = OTLP_SCHEMAS;
  for (const [messageName, schema] of Object.entries(schemas)) {
    for (const field of Object.values(schema)) {
      if (typeof field.type === 'object') {
        assert.ok(field.type.message in schemas, `${messageName}.${field.name} -> ${field.type.message}`);
      }
    }
  }

  // Exporters always pack repeated numbers, but decoders must accept both forms.
  const fixed64 = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const unpacked = Buffer.concat([Buffer.from([(6 << 3) | 1]), fixed64(2), Buffer.from([(6 << 3) | 1]), fixed64(5)]);
  assert.deepEqual(decodeMessage(OTLP_SCHEMAS, 'HistogramDataPoint', unpacked), { bucketCounts: [2n, 5n] });
});
