/**
 * collector/otelcol.yaml as shipped, in the real collector built from builder-config.yaml:
 * an app under the preload pushes OTLP metrics and traces to it, and its Prometheus exporter
 * must show the documented names exactly; spans with secrets (the SDK's and those of a service
 * without it) must leave it with every secret removed; spans of a service without the SDK
 * become the same documented HTTP metrics.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CATALOG, LATENCY_BUCKETS, catalogSpec, type CatalogKey } from '../../src/metrics/catalog';
import { startApp, type RunningApp } from '../support/app';
import { COLLECTOR_DIR, fileExporterOverlay, readSpanFile, startCollector, tempDir, type Collector } from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpGrpcSink, type OtlpGrpcSink } from '../support/otlp-grpc-sink';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { parseExposition, type Exposition } from '../support/prom-text';
import { eventually } from '../support/wait';

const P = 'innatural_chatbot';
const c = (n: number) => `cnry${String(n).padStart(2, '0')}x${(n * 104729).toString(36)}z`;

/** Every place a service without our SDK puts a secret on a span, each a distinct canary. */
const RAW = {
  authorization: c(1),
  cookie: c(2),
  apiKeyHeader: c(3),
  queryToken: c(4),
  urlPassword: c(5),
  password: c(6),
  clientSecret: c(7),
  refreshToken: c(8),
  sessionToken: c(9),
  messageToken: c(10),
  eventUrlPassword: c(11),
  resourceSecret: c(12),
  bearerInText: c(13),
  jwtPayload: `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx${c(14)}.c2lnbmF0dXJl`,
};
const CARD = '4111111111111111';
/** Carried by requests to the app under the preload. */
const APP = { authorization: c(20), queryToken: c(21) };

/** The summed value of the samples matching these labels (others, such as instance, free); undefined when none. */
function total(e: Exposition, name: string, match: Record<string, string>): number | undefined {
  const samples = e.find(name, match);
  return samples.length === 0 ? undefined : samples.reduce((sum, s) => sum + s.value, 0);
}

const hex = (bytes: number) => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
const str = (value: string) => ({ stringValue: value });
const kv = (key: string, value: unknown) => ({ key, value: typeof value === 'string' ? str(value) : value });
const arr = (...values: string[]) => ({ arrayValue: { values: values.map(str) } });

/** OTLP/JSON server spans of a service that does not run our SDK (no telemetry.distro.name). */
function rawSpans(count: number, withSecrets: boolean) {
  const now = Date.now() * 1e6;
  const spans = Array.from({ length: count }, (_, i) => ({
    traceId: hex(16),
    spanId: hex(8),
    name: 'GET /legacy/:id',
    kind: 2, // SERVER
    startTimeUnixNano: String(now - 300e6),
    endTimeUnixNano: String(now - 50e6), // 250 ms: in the (0.1, 0.5] bucket
    attributes: [
      kv('http.request.method', 'GET'),
      kv('http.route', '/legacy/:id'),
      kv('http.response.status_code', { intValue: '200' }),
      kv('gen_ai.usage.input_tokens', { intValue: '42' }),
      ...(withSecrets && i === 0
        ? [
            kv('http.request.header.authorization', arr(`Bearer ${RAW.authorization}`)),
            kv('http.request.header.cookie', arr(`sid=${RAW.cookie}`)),
            kv('http.request.header.x-api-key', arr(RAW.apiKeyHeader)),
            kv('url.full', `https://shop.example.com/legacy/7?page=2&token=${RAW.queryToken}`),
            kv('db.connection_string', `postgres://shop:${RAW.urlPassword}@db.internal:5432/shop`),
            kv('user.password', RAW.password),
            kv('oauth.client_secret', RAW.clientSecret),
            kv('refresh_token', RAW.refreshToken),
            kv('enduser.session_token', RAW.sessionToken),
            kv('app.message', `retrying with token=${RAW.messageToken} after 401`),
            kv('app.note', `sent Authorization: Bearer ${RAW.bearerInText}`),
            kv('app.jwt_seen', RAW.jwtPayload),
            kv('payment.last_attempt', `card ${CARD} declined`),
          ]
        : []),
    ],
    events:
      withSecrets && i === 0
        ? [{ timeUnixNano: String(now - 100e6), name: 'exception', attributes: [kv('exception.message', `connect postgres://shop:${RAW.eventUrlPassword}@db.internal/shop failed`)] }]
        : [],
    status: {},
  }));
  return {
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', 'legacy-shop'), kv('service.instance.id', 'legacy-1'), kv('deploy.secret', RAW.resourceSecret)] },
        scopeSpans: [{ scope: { name: 'hand-made' }, spans }],
      },
    ],
  };
}

describe('agent collector (collector/otelcol.yaml)', () => {
  let ai: OpenAiServer;
  let backend: OtlpSink;
  /** Where load_balancing sends the traces: one gateway replica, here a gRPC sink. */
  let gatewaySink: OtlpGrpcSink;
  let collector: Collector;
  let app: RunningApp;
  let scraped: RunningApp;
  let dir: string;
  let spansFile: string;
  let m: Exposition;
  let text: string;
  const LEGACY_REQUESTS = 7;

  before(async () => {
    dir = tempDir('agent');
    spansFile = join(dir, 'spans.jsonl');
    const overlay = fileExporterOverlay(dir, 'file/spans', spansFile, ['load_balancing/static']);
    ai = await startOpenAiServer();
    backend = await startOtlpSink();
    gatewaySink = await startOtlpGrpcSink();
    collector = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [overlay], {
      OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      OTELCOL_GATEWAY_ENDPOINTS: new URL(gatewaySink.url).host,
      OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '500ms',
    });
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: {
        OTEL_SERVICE_NAME: 'chatbot-e2e',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '300',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_LOGS_EXPORTER: 'none',
        INNATURAL_HEALTH_PORT: '0',
        INNATURAL_HEALTH_HOST: '127.0.0.1',
        FIXTURE_OPENAI_URL: ai.url,
      },
    });

    // A second app under the SDK sends only traces here: Prometheus scrapes its metrics directly.
    scraped = await startApp({
      fixture: 'express-app.js',
      env: {
        OTEL_SERVICE_NAME: 'scraped-directly',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.otlpHttp,
        OTEL_METRICS_EXPORTER: 'prometheus',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_LOGS_EXPORTER: 'none',
        INNATURAL_HEALTH_PORT: '0',
        INNATURAL_HEALTH_HOST: '127.0.0.1',
      },
    });
    for (let i = 0; i < 3; i++) await (await scraped.get(`/api/users/${i}`)).arrayBuffer();

    const post = (path: string, body: unknown) =>
      app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
    for (let i = 0; i < 3; i++) await (await app.get(`/api/users/${i}`)).arrayBuffer();
    await (await app.get(`/api/users/9?token=${APP.queryToken}`, { headers: { authorization: `Bearer ${APP.authorization}` } })).arrayBuffer();
    await post('/api/chat', { message: 'salut', language: 'fr' });
    await (await app.get('/api/db')).arrayBuffer();
    await (await app.get('/api/cache')).arrayBuffer();
    await (await app.get('/api/fail')).arrayBuffer();

    const sent = await fetch(`${collector.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rawSpans(LEGACY_REQUESTS, true)),
    });
    assert.equal(sent.status, 200, await sent.text());

    text = await eventually(
      async () => {
        const t = await (await fetch(collector.prometheus)).text();
        const e = parseExposition(t);
        const users = total(e, `${P}_http_requests_total`, { job: 'chatbot-e2e', method: 'GET', route: '/api/users/:id', status_code: '200' });
        const legacy = total(e, `${P}_http_requests_total`, { job: 'legacy-shop', method: 'GET', route: '/legacy/:id', status_code: '200' });
        return users === 4 && legacy === LEGACY_REQUESTS && t;
      },
      20000,
      'collector /metrics',
      () => `${collector.output().slice(-3000)}`,
    );
    // Span metrics flush every 500 ms here: let a few flushes pass, so a service counted twice
    // (its own metrics plus metrics derived from its spans) would show.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    text = await (await fetch(collector.prometheus)).text();
    m = parseExposition(text);
  });

  after(async () => {
    app?.kill();
    scraped?.kill();
    await collector?.stop();
    await backend?.close();
    await gatewaySink?.close();
    await ai?.close();
  });

  it('exposes the app’s request counter with the documented name and labels, counted once', () => {
    assert.match(
      text,
      /^innatural_chatbot_http_requests_total\{[^}]*method="GET",route="\/api\/users\/:id",status_code="200"[^}]*\} 4$/m,
    );
    const series = m.find(`${P}_http_requests_total`, { job: 'chatbot-e2e', route: '/api/users/:id' });
    assert.equal(series.length, 1, JSON.stringify(series));
    const keys = m.find(`${P}_http_requests_total`).filter((s) => s.labels.job === 'chatbot-e2e').map((s) => Object.keys(s.labels).sort().join(','));
    assert.deepEqual([...new Set(keys)], ['instance,job,method,route,status_code']);
  });

  it('passes the app’s OTLP exemplars on: the backend gets the ids of server spans the collector forwarded', async () => {
    // The collector's Go decoder reads our exemplar bytes and its exporter writes them anew.
    const exemplars = await eventually(
      async () => {
        const points = backend.metrics
          .filter((x) => x.name === `${P}_http_request_duration_seconds` && x.resource['service.name'] === 'chatbot-e2e')
          .flatMap((x) => x.points)
          .filter((p) => p.attributes.route === '/api/users/:id' && p.exemplars.length > 0);
        return points.at(-1)?.exemplars;
      },
      10000,
      'exemplars at the backend',
      () => JSON.stringify(backend.metrics.map((x) => x.name)),
    );
    for (const e of exemplars) {
      const span = await eventually(
        async () => readSpanFile(spansFile).find((s) => s.traceId === e.traceId && s.spanId === e.spanId),
        10000,
        `span ${e.spanId} in the spans file`,
        () => '',
      );
      assert.equal(span.kind, 2, span.name);
      assert.equal(span.service, 'chatbot-e2e');
    }
  });

  it('exposes every catalog name the app moved, unchanged: no doubled _total, no unit suffix, no otel_scope labels', () => {
    assert.doesNotMatch(text, /_total_total|_seconds_seconds|otel_scope_/);
    const moved: CatalogKey[] = ['httpRequestDuration', 'httpRequests', 'messages', 'aiRequestDuration', 'aiTokens', 'dbQueryDuration', 'redisOperations', 'errors'];
    for (const key of moved) {
      const spec = catalogSpec(key, P);
      assert.equal(m.types.get(spec.name), spec.type, `${spec.name} TYPE`);
      const sample = spec.type === 'histogram' ? `${spec.name}_count` : spec.name;
      const ours = m.find(sample).filter((s) => s.labels.job === 'chatbot-e2e');
      assert.ok(ours.length > 0, `${sample} present`);
      for (const s of ours) assert.deepEqual(Object.keys(s.labels).filter((k) => k !== 'job' && k !== 'instance').sort(), [...spec.labels].sort(), `${sample} labels`);
    }
    const bounds = [...new Set(m.find(`${P}_http_request_duration_seconds_bucket`).map((s) => s.labels.le))];
    assert.deepEqual(bounds, [...LATENCY_BUCKETS.map(String), '+Inf']);
    assert.ok((total(m, 'process_resident_memory_bytes', { job: 'chatbot-e2e' }) ?? 0) > 0, 'runtime metrics keep prom-client names');
    for (const key of Object.keys(CATALOG) as CatalogKey[]) assert.ok(!text.includes(`${catalogSpec(key, P).name}_total `), 'no doubled suffix');
  });

  it('turns server spans of a service without the SDK into the documented HTTP metrics, with the seed buckets', () => {
    const labels = { job: 'legacy-shop', method: 'GET', route: '/legacy/:id', status_code: '200' };
    assert.equal(total(m, `${P}_http_requests_total`, labels), LEGACY_REQUESTS);
    assert.equal(total(m, `${P}_http_request_duration_seconds_count`, labels), LEGACY_REQUESTS);
    assert.equal(total(m, `${P}_http_request_duration_seconds_bucket`, { ...labels, le: '0.1' }), 0);
    assert.equal(total(m, `${P}_http_request_duration_seconds_bucket`, { ...labels, le: '0.5' }), LEGACY_REQUESTS);
    const keys = m.find(`${P}_http_requests_total`).filter((s) => s.labels.job === 'legacy-shop').map((s) => Object.keys(s.labels).sort().join(','));
    assert.deepEqual([...new Set(keys)], ['instance,job,method,route,status_code']);
  });

  it('derives no HTTP metrics from the spans of a service under the SDK (it has its own; no double count)', async () => {
    await eventually(
      async () => readFileSync(spansFile, { encoding: 'utf8', flag: 'a+' }).includes('scraped-directly'),
      10000,
      'spans of scraped-directly',
      () => '',
    );
    assert.deepEqual(m.find(`${P}_http_requests_total`, { job: 'scraped-directly' }), []);
    assert.deepEqual(m.find(`${P}_http_request_duration_seconds_count`, { job: 'scraped-directly' }), []);
  });

  it('removes every canary secret from the spans it exports, and keeps what is not secret', async () => {
    const canaries = [...Object.values(RAW), ...Object.values(APP), CARD];
    const content = await eventually(
      async () => {
        const t = readFileSync(spansFile, { encoding: 'utf8', flag: 'a+' });
        return t.includes('legacy-shop') && t.includes('/api/users/:id') && t;
      },
      10000,
      'file exporter',
      () => readFileSync(spansFile, { encoding: 'utf8', flag: 'a+' }).slice(0, 2000),
    );
    const leaked = canaries.filter((s) => content.includes(s));
    assert.deepEqual(leaked, [], 'no canary in the file exporter output');
    const forwarded = JSON.stringify(gatewaySink.spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    assert.deepEqual(canaries.filter((s) => forwarded.includes(s)), [], 'no canary forwarded to the gateway');
    assert.ok(gatewaySink.spans.some((s) => s.name === 'GET /legacy/:id'), 'spans forwarded to the gateway');
    // Not secret, and must survive: a count of tokens is not a token; the route and method stay.
    assert.match(content, /"gen_ai\.usage\.input_tokens","value":\{"intValue":"42"\}/);
    assert.match(content, /"http\.route","value":\{"stringValue":"\/legacy\/:id"\}/);
    assert.match(content, /shop\.example\.com\/legacy\/7\?page=2/);
  });
});
