/**
 * /metrics negotiates its format and encoding as Prometheus asks, and the exemplars it carries
 * point at spans that were exported: a real Prometheus (Debian's, exemplar storage on) scraping
 * the app returns them from /api/v1/query_exemplars. Prometheus' own OpenMetrics parser is the
 * parser under test: a scrape it cannot parse leaves the target down with the parse error.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { healthUrl, sinkEnv, startApp, type RunningApp } from '../support/app';
import { startPrometheus, type Prometheus } from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const P = 'innatural_chatbot';
const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
const EXEMPLAR = / # \{trace_id="([0-9a-f]{32})",span_id="([0-9a-f]{16})"\} ([^ ]+) ([0-9.]+)$/;

/** Raw bytes and headers: fetch would decompress and hide the Content-Encoding. */
function raw(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The catalog's lines: runtime gauges move between two scrapes, the catalog does not while no traffic arrives. */
const catalogLines = (text: string) => text.split('\n').filter((l) => l.includes(`${P}_`) && !l.includes('_ready') && !l.includes('_health_check_up'));

describe('OpenMetrics, exemplars and gzip on /metrics', () => {
  let sink: OtlpSink;
  let ai: OpenAiServer;
  let app: RunningApp;
  let health: string;

  before(async () => {
    sink = await startOtlpSink();
    ai = await startOpenAiServer();
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'exemplars', OTEL_METRICS_EXPORTER: 'prometheus', FIXTURE_OPENAI_URL: ai.url }),
    });
    health = await healthUrl(app);
    for (let i = 0; i < 20; i++) assert.equal((await app.get(`/api/users/${i}`)).status, 200);
    assert.equal((await app.get('/api/db')).status, 200);
    const chat = await app.get('/api/chat', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message: 'hi', language: 'en' }) });
    assert.equal(chat.status, 200);
  });
  after(async () => {
    app?.kill();
    await sink?.close();
    await ai?.close();
  });

  it("answers Prometheus' Accept with OpenMetrics 1.0 ending in # EOF, counters named as prom-client names them", async () => {
    const res = await raw(`${health}/metrics`, { accept: PROMETHEUS_ACCEPT });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/openmetrics-text; version=1.0.0; charset=utf-8');
    const text = res.body.toString();
    assert.ok(text.endsWith('\n# EOF\n'));
    assert.ok(text.includes(`# TYPE ${P}_http_requests counter\n`));
    assert.match(text, new RegExp(`^${P}_http_requests_total\\{method="GET",route="/api/users/:id",status_code="200"\\} 20( #|$)`, 'm'));
    assert.match(text, new RegExp(`^# TYPE ${P}_http_request_duration_seconds histogram$`, 'm'));
  });

  it('puts on the duration buckets exemplars whose trace and span ids are server spans the OTLP sink received', async () => {
    const text = (await raw(`${health}/metrics`, { accept: PROMETHEUS_ACCEPT })).body.toString();
    const bucketExemplars = text
      .split('\n')
      .filter((l) => l.startsWith(`${P}_http_request_duration_seconds_bucket{`) && EXEMPLAR.test(l))
      .map((l) => EXEMPLAR.exec(l)!);
    assert.ok(bucketExemplars.length >= 1, text);
    const spans = await sink.waitFor(() => {
      const server = sink.spans.filter((s) => s.kind === 2 && s.resource['service.name'] === 'exemplars');
      return server.length >= 22 && server;
    });
    const ids = new Set(spans.map((s) => `${s.traceId}/${s.spanId}`));
    for (const [, traceId, spanId] of bucketExemplars) assert.ok(ids.has(`${traceId}/${spanId}`), `${traceId}/${spanId} not exported`);
    // The other histograms and the request counter carry theirs too.
    for (const name of [`${P}_db_query_duration_seconds_bucket`, `${P}_ai_request_duration_seconds_bucket`, `${P}_http_requests_total`]) {
      assert.ok(text.split('\n').some((l) => l.startsWith(`${name}{`) && EXEMPLAR.test(l)), `${name} has no exemplar`);
    }
    // At most one per sample line, and exemplar labels are the two ids only.
    for (const line of text.split('\n')) assert.ok((line.match(/ # \{/g) ?? []).length <= 1, line);
  });

  it('serves 0.0.4 text without exemplar syntax to a 0.0.4-only scraper, and it passes promtool', async () => {
    for (const accept of ['text/plain;version=0.0.4', '']) {
      const res = await raw(`${health}/metrics`, accept ? { accept } : {});
      assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
      const text = res.body.toString();
      assert.doesNotMatch(text, / # \{|# EOF/);
      assert.ok(text.includes(`# TYPE ${P}_http_requests_total counter\n`));
      const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.ok(run.status === 0 || run.status === 3, `promtool exit ${run.status}: ${run.stdout}${run.stderr}`);
      assert.doesNotMatch(`${run.stdout}${run.stderr}`, /error|parse/i);
    }
  });

  it('gzips when asked: the decompressed body equals the plain one, in both formats', async () => {
    for (const accept of [PROMETHEUS_ACCEPT, 'text/plain;version=0.0.4']) {
      const zipped = await raw(`${health}/metrics`, { accept, 'accept-encoding': 'gzip' });
      const plain = await raw(`${health}/metrics`, { accept });
      assert.equal(zipped.headers['content-encoding'], 'gzip');
      assert.equal(plain.headers['content-encoding'], undefined);
      assert.match(String(zipped.headers.vary), /Accept-Encoding/);
      const unzipped = gunzipSync(zipped.body).toString();
      assert.deepEqual(catalogLines(unzipped), catalogLines(plain.body.toString()));
      assert.ok(zipped.body.length < plain.body.length / 3, `${zipped.body.length} of ${plain.body.length}`);
    }
  });

  it('answers hostile Accept headers with one of the two formats, never an error', async () => {
    const war = Array.from({ length: 180 }, (_, i) => `application/openmetrics-text;q=0.${i % 10},text/plain;q=0.${(i + 3) % 10}`).join(',');
    for (const accept of ['x'.repeat(10_000), ';;;,,,==;q=;q=2,q', war, 'application/openmetrics-text;q=abc', '*/*;q=0']) {
      const res = await raw(`${health}/metrics`, { accept, 'accept-encoding': 'x'.repeat(2000) });
      assert.equal(res.status, 200, accept.slice(0, 50));
      assert.ok(
        ['text/plain; version=0.0.4; charset=utf-8', 'application/openmetrics-text; version=1.0.0; charset=utf-8'].includes(String(res.headers['content-type'])),
      );
    }
  });

  it('serves the slowest recent sampled requests, from the exemplars', async () => {
    const body = (await (await fetch(`${health}/api/metrics/slowest`)).json()) as { requests: Array<Record<string, unknown>> };
    assert.ok(body.requests.length >= 1);
    const ids = new Set(sink.spans.map((s) => s.traceId));
    for (const r of body.requests) {
      assert.deepEqual(Object.keys(r).sort(), ['durationMs', 'method', 'route', 'spanId', 'status', 'timestamp', 'traceId']);
      assert.ok(ids.has(String(r.traceId)));
    }
    const durations = body.requests.map((r) => Number(r.durationMs));
    assert.deepEqual(durations, [...durations].sort((a, b) => b - a));
  });

  describe('a real Prometheus scraping the app', () => {
    let prom: Prometheus;
    before(async () => {
      const target = new URL(health).host;
      prom = await startPrometheus(
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['${target}']\n`,
        ['--enable-feature=exemplar-storage'],
      );
    });
    after(async () => prom?.stop());

    it('parses the OpenMetrics scrape and returns the exemplars from /api/v1/query_exemplars', async () => {
      const target = await eventually(
        async () => {
          const body = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
          const t = body.data.activeTargets[0];
          return t && t.health !== 'unknown' && t;
        },
        15000,
        'first scrape',
        () => prom.output(),
      );
      assert.equal(target.lastError, '');
      assert.equal(target.health, 'up');
      const exemplars = await eventually(
        async () => {
          const now = Date.now() / 1000;
          const q = encodeURIComponent(`${P}_http_request_duration_seconds_bucket`);
          const body = (await (await fetch(`${prom.url}/api/v1/query_exemplars?query=${q}&start=${now - 600}&end=${now + 60}`)).json()) as {
            status: string;
            data: Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }>;
          };
          const all = body.data?.flatMap((d) => d.exemplars.map((e) => ({ ...e, series: d.seriesLabels }))) ?? [];
          return all.length > 0 && all;
        },
        15000,
        'exemplars in Prometheus',
        () => prom.output(),
      );
      const traceIds = new Set(sink.spans.map((s) => s.traceId));
      for (const e of exemplars) {
        assert.deepEqual(Object.keys(e.labels).sort(), ['span_id', 'trace_id']);
        assert.ok(traceIds.has(e.labels.trace_id!), `${e.labels.trace_id} not exported`);
      }
      assert.ok(exemplars.some((e) => e.series.route === '/api/users/:id'));
    });
  });
});
