/**
 * Counting is exact and bounded whatever the tracing setup: sampling off still counts
 * every request and client call; hostile paths and methods collapse into a few series;
 * the same names go over OTLP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { baseEnv, healthUrl, metricsOnlyEnv, sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { parseExposition } from '../support/prom-text';

const P = 'innatural_chatbot';

async function scrape(health: string) {
  return parseExposition(await (await fetch(`${health}/metrics`)).text());
}

const post = (app: RunningApp, path: string, body: unknown) =>
  app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('counting', () => {
  let sink: OtlpSink;
  let ai: OpenAiServer;
  before(async () => {
    sink = await startOtlpSink();
    ai = await startOpenAiServer();
  });
  after(async () => {
    await sink?.close();
    await ai?.close();
  });

  it('with OTEL_TRACES_SAMPLER=always_off every request and client call still counts, and no span is exported', async () => {
    const app = await startApp({
      fixture: 'chatbot-app.js',
      env: sinkEnv(sink, {
        OTEL_SERVICE_NAME: 'sampled-out',
        OTEL_TRACES_SAMPLER: 'always_off',
        OTEL_METRICS_EXPORTER: 'prometheus',
        FIXTURE_OPENAI_URL: ai.url,
      }),
    });
    try {
      const health = await healthUrl(app);
      for (let i = 0; i < 5; i++) assert.equal((await app.get(`/api/users/${i}`)).status, 200);
      for (let i = 0; i < 2; i++) assert.equal((await app.get('/api/db')).status, 200);
      assert.equal((await app.get('/api/cache')).status, 200);
      assert.equal((await post(app, '/api/chat', { message: 'hi', language: 'en' })).status, 200);
      const m = await scrape(health);
      assert.equal(m.value(`${P}_http_requests_total`, { method: 'GET', route: '/api/users/:id', status_code: '200' }), 5);
      assert.equal(m.value(`${P}_db_query_duration_seconds_count`, { operation: 'SELECT', db_system: 'postgresql' }), 4);
      assert.equal(m.value(`${P}_redis_operations_total`, { operation: 'set', status: 'success' }), 1);
      assert.equal(m.find(`${P}_ai_request_duration_seconds_count`).reduce((n, s) => n + s.value, 0), 1);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sink.spans.filter((s) => s.resource['service.name'] === 'sampled-out').length, 0);
    } finally {
      app.kill();
    }
  });

  it('10,000 requests to random paths and methods leave a handful of http series', async () => {
    const app = await startApp({
      fixture: 'chatbot-app.js',
      env: metricsOnlyEnv(),
    });
    try {
      const health = await healthUrl(app);
      // Methods Node's parser accepts (it answers made-up ones with 400 before the app sees them).
      const methods = ['GET', 'POST', 'PROPFIND', 'PURGE', 'MKCOL', 'DELETE'];
      let sent = 0;
      const worker = async () => {
        while (sent < 10_000) {
          const n = sent++;
          const method = methods[n % methods.length]!;
          const res = await app.get(`/r/${n}/${Math.random().toString(36).slice(2)}?q=${n}`, { method });
          await res.arrayBuffer();
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
      const started = performance.now();
      const m = await scrape(health);
      const scrapeMs = performance.now() - started;
      const series = m.find(`${P}_http_requests_total`);
      assert.ok(series.length <= 8, `${series.length} series: ${JSON.stringify(series.map((s) => s.labels))}`);
      assert.equal(series.reduce((n, s) => n + s.value, 0), 10_000);
      assert.ok(series.every((s) => s.labels.route === 'unmatched'));
      assert.deepEqual([...new Set(series.map((s) => s.labels.method))].sort(), ['DELETE', 'GET', 'POST', '_OTHER']);
      assert.ok(scrapeMs < 500, `scrape took ${scrapeMs} ms`);
    } finally {
      app.kill();
    }
  });

  it('the API is a safe no-op with OTEL_SDK_DISABLED=true', async () => {
    const app = await startApp({ fixture: 'chatbot-app.js', env: { ...baseEnv(), OTEL_SDK_DISABLED: 'true' } });
    try {
      assert.equal((await post(app, '/api/feedback', { type: 'positive' })).status, 200);
      assert.equal((await post(app, '/api/local-ai', {})).status, 200);
      assert.equal((await post(app, '/api/sessions', { count: 'NaN' })).status, 200);
      assert.equal((await post(app, '/api/chat', { message: '' })).status, 400);
      assert.equal(app.stderr(), '');
    } finally {
      app.kill();
    }
  });

  it('caps every metric at INNATURAL_METRICS_CARDINALITY_LIMIT with one visible overflow series', async () => {
    const app = await startApp({
      fixture: 'chatbot-app.js',
      env: metricsOnlyEnv({ INNATURAL_METRICS_CARDINALITY_LIMIT: '5' }),
    });
    try {
      const health = await healthUrl(app);
      for (let i = 0; i < 20; i++) await (await app.get(`/api/products/recommendations?category=c${i}`)).arrayBuffer();
      const m = await scrape(health);
      const series = m.find(`${P}_product_recommendations_total`);
      assert.equal(series.length, 6);
      assert.equal(m.value(`${P}_product_recommendations_total`, { category: '_overflow' }), 15);
    } finally {
      app.kill();
    }
  });

  it('sends the same names over OTLP with OTEL_METRICS_EXPORTER=prometheus,otlp', async () => {
    const app = await startApp({
      fixture: 'chatbot-app.js',
      env: sinkEnv(sink, {
        OTEL_SERVICE_NAME: 'metrics-otlp',
        OTEL_METRICS_EXPORTER: 'prometheus,otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        FIXTURE_OPENAI_URL: ai.url,
      }),
    });
    try {
      const health = await healthUrl(app);
      for (let i = 0; i < 3; i++) assert.equal((await app.get(`/api/users/${i}`)).status, 200);
      assert.equal((await app.get('/api/db')).status, 200);
      const name = `${P}_http_requests_total`;
      const metric = await sink.waitFor(() =>
        sink.metrics.findLast(
          (x) => x.resource['service.name'] === 'metrics-otlp' && x.name === name && x.points.some((p) => p.value === 3),
        ),
      );
      assert.equal(metric.type, 'sum');
      assert.equal(metric.isMonotonic, true);
      const point = metric.points.find((p) => p.attributes.route === '/api/users/:id')!;
      assert.deepEqual(point.attributes, { method: 'GET', route: '/api/users/:id', status_code: '200' });
      // /api/db answered after the users: its histogram may come one export later.
      const histogram = await sink.waitFor(() =>
        sink.metrics.findLast((x) => x.resource['service.name'] === 'metrics-otlp' && x.name === `${P}_db_query_duration_seconds`),
      );
      assert.deepEqual(histogram.points[0]!.explicitBounds, [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
      assert.ok(sink.metrics.some((x) => x.name === 'process_resident_memory_bytes'));
      const prom = await scrape(health);
      const otlpNames = new Set(sink.metrics.filter((x) => x.resource['service.name'] === 'metrics-otlp').map((x) => x.name));
      for (const promName of prom.types.keys()) {
        if (prom.find(promName).length + prom.find(`${promName}_count`).length === 0) continue; // declared, nothing recorded yet
        assert.ok(otlpNames.has(promName), `${promName} missing over OTLP`);
      }
    } finally {
      app.kill();
    }
  });
});
