/**
 * Routes behind mounts carry their full template, mount parameters included, wherever a route
 * is named: the `route` label on /metrics, `http.route` and the span names. The concrete
 * values (tenant keys here, which are secrets) never do, and every distinct value does not
 * mint a series. Driven against a real Express 5 app under the preload, with tracing off
 * (the metrics alone) and on (OTLP sink), and with the stock per-layer spans.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { HTTP_SERVER_SCOPE } from '../../src/instrumentations/http-server';
import { healthUrl, metricsOnlyEnv, sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink, type SinkSpan } from '../support/otlp-sink';
import { parseExposition, type Exposition } from '../support/prom-text';

const P = 'innatural_chatbot';
const SERVER = 2;
const TENANTS = 12;

const secret = (what: string) => `${what}${randomBytes(8).toString('hex')}`;

interface Call {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly status: number;
  /** The template every sink must name it by. */
  readonly route: string;
}

/** Every concrete value a path carries is one of these: none may reach a label or a name. */
const secrets: string[] = [];
const keep = (s: string) => (secrets.push(s), s);

function calls(): Call[] {
  const list: Call[] = [];
  const add = (method: Call['method'], path: string, status: number, route: string) => list.push({ method, path, status, route });
  for (let i = 0; i < TENANTS; i++) add('GET', `/api/tenants/${keep(secret('tk_'))}/profile`, 200, '/api/tenants/:tenantKey/profile');
  add('GET', `/api/tenants/${keep(secret('tk_'))}`, 200, '/api/tenants/:tenantKey');
  add('GET', `/api/t/${keep(secret('tk_'))}/profile`, 200, '/api/t/:tenantKey/profile');
  for (let i = 0; i < 3; i++) {
    const path = `/api/tenants/${keep(secret('tk_'))}/projects/${keep(secret('p'))}/tasks/${keep(secret('t'))}`;
    add('GET', path, 200, '/api/tenants/:tenantKey/projects/:projectId/tasks/:taskId');
  }
  add('GET', `/api/tenants/${keep(secret('tk_'))}/other`, 200, '/api/tenants/:tenantKey/other');
  add('GET', `/api/tenants/${keep(secret('tk_'))}/fail`, 500, '/api/tenants/:tenantKey/fail');
  add('GET', `/api/reports/${keep(secret('2'))}/summary`, 200, '/api/reports/:year/summary');
  add('GET', `/api/archive/${keep(secret('1'))}/summary`, 200, '/api/archive/:year/summary');
  add('GET', '/api/v3/status', 200, '/^\\/api\\/v\\d+/status');
  add('GET', `/api/a/${keep(secret('x'))}`, 200, '/api/a/:x');
  add('GET', `/api/b/${keep(secret('y'))}`, 200, '/api/b/:y');
  add('GET', `/api/orgs/${keep(secret('org_'))}/info`, 200, '/api/orgs/:orgKey/info');
  add('GET', `/api/tenants/${keep(secret('tk_'))}/nothing/here`, 404, 'unmatched');
  add('POST', `/api/reset?token=${keep(secret('reset_'))}`, 400, '/api/reset');
  add('GET', `/api/limited?token=${keep(secret('rl_'))}`, 429, '/api/limited');
  return list;
}

const CALLS = calls();

async function drive(app: RunningApp): Promise<void> {
  for (const call of CALLS) {
    const res = await app.get(call.path, { method: call.method });
    await res.arrayBuffer();
    assert.equal(res.status, call.status, `${call.method} ${call.path}`);
  }
}

/** How many requests each (method, route, status) series must count, exactly. */
function expectedSeries(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of CALLS) {
    const key = JSON.stringify({ method: c.method, route: c.route, status_code: String(c.status) });
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function scrape(app: RunningApp): Promise<{ text: string; m: Exposition }> {
  const res = await fetch(`${await healthUrl(app)}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, m: parseExposition(text) };
}

function assertMetrics(text: string, m: Exposition): void {
  const series = m.find(`${P}_http_requests_total`);
  const actual = new Map(series.map((s) => [JSON.stringify({ method: s.labels.method, route: s.labels.route, status_code: s.labels.status_code }), s.value]));
  assert.deepEqual(actual, expectedSeries());
  // One series for every tenant: the cardinality hole is closed.
  assert.equal(m.value(`${P}_http_requests_total`, { method: 'GET', route: '/api/tenants/:tenantKey/profile', status_code: '200' }), TENANTS);
  assert.equal(m.find(`${P}_http_request_duration_seconds_count`, { route: '/api/tenants/:tenantKey/profile' }).length, 1);
  assert.equal(m.value(`${P}_validation_errors_total`, { route: '/api/reset' }), 1);
  // Once from the API (given a full URL with credentials, query and fragment), once from the 429.
  assert.equal(m.value(`${P}_rate_limit_hits_total`, { route: '/api/limited' }), 2);
  assert.equal(m.find(`${P}_rate_limit_hits_total`).length, 1);
  for (const s of secrets) assert.ok(!text.includes(s), `${s} is on /metrics`);
  assert.doesNotMatch(text, /user:|localhost|token=/);
}

describe('route templates behind mounts, with tracing off', () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp({ fixture: 'tenants-app.js', env: metricsOnlyEnv({ OTEL_LOGS_EXPORTER: 'none' }) });
    await drive(app);
  });
  after(() => app?.kill());

  it('labels every request with its full template, one series per template, no concrete value anywhere', async () => {
    const { text, m } = await scrape(app);
    assertMetrics(text, m);
  });
});

describe('route templates behind mounts, traced', () => {
  let sink: OtlpSink;
  let app: RunningApp;
  let text: string;
  let m: Exposition;

  before(async () => {
    sink = await startOtlpSink();
    app = await startApp({
      fixture: 'tenants-app.js',
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'tenants', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none' }),
    });
    await drive(app);
    ({ text, m } = await scrape(app));
    await sink.waitFor(() => sink.spans.filter((s) => s.kind === SERVER).length >= CALLS.length);
  });

  after(async () => {
    app?.kill();
    await sink?.close();
  });

  const serverSpans = () => sink.spans.filter((s) => s.kind === SERVER && s.scope.name === HTTP_SERVER_SCOPE);

  it('labels /metrics as with tracing off', () => assertMetrics(text, m));

  it('names every server span and its route span by the full template, as http.route', () => {
    const servers = serverSpans();
    assert.equal(servers.length, CALLS.length);
    for (const call of CALLS) {
      const path = call.path.split('?')[0]!;
      const server = servers.find((s) => s.attributes['url.path'] === path);
      assert.ok(server, `no server span for ${path}`);
      const handlers = sink.spans.filter((s) => s.parentSpanId === server.spanId && s.attributes['express.type'] === 'request_handler');
      if (call.route === 'unmatched') {
        assert.equal(server.attributes['http.route'], undefined);
        assert.equal(server.name, call.method);
        assert.equal(handlers.length, 0);
        continue;
      }
      assert.equal(server.name, `${call.method} ${call.route}`);
      assert.equal(server.attributes['http.route'], call.route);
      assert.equal(handlers.length, 1, `${path}: ${handlers.map((h) => h.name).join(', ')}`);
      assert.equal(handlers[0]!.name, `request handler - ${call.route}`);
      assert.equal(handlers[0]!.attributes['http.route'], call.route);
      assert.equal(handlers[0]!.attributes['express.name'], call.route);
    }
  });

  it('one route name for all tenants', () => {
    const names = new Set(serverSpans().filter((s) => String(s.attributes['url.path']).endsWith('/profile')).map((s) => s.name));
    assert.deepEqual([...names].sort(), ['GET /api/t/:tenantKey/profile', 'GET /api/tenants/:tenantKey/profile']);
  });

  it('carries no concrete value in any exported span, but in url.path, which is the request path by definition', () => {
    assertNoSecretInSpans(sink.spans);
  });
});

describe('route templates with the stock per-layer spans (INNATURAL_EXPRESS_LAYER_SPANS=true)', () => {
  let sink: OtlpSink;
  let app: RunningApp;
  before(async () => {
    sink = await startOtlpSink();
    app = await startApp({
      fixture: 'tenants-app.js',
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'layered', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_LOGS_EXPORTER: 'none', INNATURAL_EXPRESS_LAYER_SPANS: 'true' }),
    });
    await drive(app);
    await sink.waitFor(() => sink.spans.filter((s) => s.kind === SERVER).length >= CALLS.length);
  });
  after(async () => {
    app?.kill();
    await sink?.close();
  });

  it('labels /metrics with our templates and leaks no concrete value into the spans', async () => {
    const { text, m } = await scrape(app);
    assertMetrics(text, m);
    const server = sink.spans.find((s) => s.kind === SERVER && String(s.attributes['url.path']).endsWith('/profile') && s.attributes['url.path']!.toString().startsWith('/api/tenants/'));
    assert.equal(server?.attributes['http.route'], '/api/tenants/:tenantKey/profile');
    assertNoSecretInSpans(sink.spans);
  });
});

function assertNoSecretInSpans(spans: readonly SinkSpan[]): void {
  assert.ok(spans.length >= CALLS.length);
  for (const span of spans) {
    const { 'url.path': path, ...attributes } = span.attributes;
    const rest = JSON.stringify({ name: span.name, attributes, events: span.events, links: span.links, status: span.status }, (_, v: unknown) =>
      typeof v === 'bigint' ? String(v) : v,
    );
    for (const s of secrets) assert.ok(!rest.includes(s), `${s} in span ${span.name}: ${rest}`);
    if (path !== undefined) assert.ok(CALLS.some((c) => c.path.split('?')[0] === path), `url.path ${String(path)}`);
  }
}
