/**
 * OTLP metrics carry the exemplars /metrics shows: over each protocol, the chatbot's request and
 * query durations point at the very server and client spans the same collector received.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sinkEnv, startApp } from '../support/app';
import { startOtlpGrpcSink } from '../support/otlp-grpc-sink';
import { startOtlpSink, type OtlpSink, type SinkMetric, type SinkMetricPoint } from '../support/otlp-sink';

const P = 'innatural_chatbot';
const SERVER = 2;
const CLIENT = 3;
type Sink = Pick<OtlpSink, 'url' | 'spans' | 'metrics' | 'waitFor' | 'close'>;

const PROTOCOLS: Record<string, () => Promise<Sink>> = {
  'http/protobuf': startOtlpSink,
  'http/json': startOtlpSink,
  grpc: startOtlpGrpcSink,
};

/** The latest export's points of one metric. */
function latest(sink: Sink, name: string): SinkMetricPoint[] {
  const exports = sink.metrics.filter((m: SinkMetric) => m.name === name);
  return exports.at(-1)?.points ?? [];
}

const routeCount = (sink: Sink, route: string) =>
  latest(sink, `${P}_http_request_duration_seconds`).find((p) => p.attributes.route === route)?.count ?? 0;

async function withChatbot(protocol: string, extra: Record<string, string>, body: (sink: Sink) => Promise<void>): Promise<void> {
  const sink = await PROTOCOLS[protocol]!();
  const app = await startApp({
    fixture: 'chatbot-app.js',
    env: sinkEnv({ url: sink.url } as OtlpSink, {
      OTEL_SERVICE_NAME: 'otlp-exemplars',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_METRIC_EXPORT_INTERVAL: '500',
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      ...extra,
    }),
  });
  try {
    for (let i = 0; i < 3; i++) assert.equal((await app.get(`/api/users/${i}`)).status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await app.get('/api/db')).status, 200);
    // Cumulative points: once an export counts every request, every later one does.
    await sink.waitFor(() => routeCount(sink, '/api/users/:id') >= 3 && routeCount(sink, '/api/db') >= 2 && latest(sink, `${P}_db_query_duration_seconds`).length > 0, 15_000);
    await body(sink);
  } finally {
    app.kill();
    await sink.close();
  }
}

/** Each exemplar of the metric's latest points names a span of `kind` that the sink received. */
async function assertExemplarsAreSpans(sink: Sink, metric: string, kind: number): Promise<number> {
  const exemplars = latest(sink, metric).flatMap((p) => p.exemplars);
  assert.ok(exemplars.length > 0, `${metric} has no exemplar`);
  for (const e of exemplars) {
    assert.match(e.traceId, /^[0-9a-f]{32}$/);
    assert.match(e.spanId, /^[0-9a-f]{16}$/);
    assert.equal(typeof e.value, 'number');
    assert.ok(e.timeUnixNano > BigInt(Date.now() - 120_000) * 1_000_000n, `${metric} exemplar time ${e.timeUnixNano}`);
    const span = await sink.waitFor(() => sink.spans.find((s) => s.spanId === e.spanId && s.traceId === e.traceId));
    assert.equal(span.kind, kind, `${metric} exemplar ${e.spanId} is span ${span.name} of kind ${span.kind}`);
  }
  return exemplars.length;
}

describe('exemplars on OTLP metrics', () => {
  for (const protocol of Object.keys(PROTOCOLS)) {
    it(`${protocol}: request durations point at server spans, query durations at client spans`, async () => {
      await withChatbot(protocol, {}, async (sink) => {
        await assertExemplarsAreSpans(sink, `${P}_http_request_duration_seconds`, SERVER);
        await assertExemplarsAreSpans(sink, `${P}_http_requests_total`, SERVER);
        await assertExemplarsAreSpans(sink, `${P}_db_query_duration_seconds`, CLIENT);
        const users = latest(sink, `${P}_http_request_duration_seconds`).find((p) => p.attributes.route === '/api/users/:id')!;
        // One per bucket at most: three fast requests fall in one or two buckets.
        assert.ok(users.exemplars.length >= 1 && users.exemplars.length <= users.bucketCounts!.filter((c) => c > 0).length, JSON.stringify(users.bucketCounts));
        assert.ok(users.exemplars.every((e) => e.value! > 0 && e.value! < 5));
      });
    });
  }

  it('INNATURAL_METRICS_EXEMPLARS=false: no point carries any', async () => {
    await withChatbot('http/protobuf', { INNATURAL_METRICS_EXEMPLARS: 'false' }, async (sink) => {
      assert.ok(sink.spans.some((s) => s.kind === SERVER), 'spans are still exported');
      const withAny = sink.metrics.filter((m) => m.points.some((p) => p.exemplars.length > 0)).map((m) => m.name);
      assert.deepEqual(withAny, []);
    });
  });
});
