/**
 * The documented metrics, exactly: a chatbot fixture under the preload is driven with
 * real requests, real PostgreSQL and Redis and the real openai client, then /metrics is
 * asserted row by row against the catalog: names, label keys, buckets and counts.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { CATALOG, DB_BUCKETS, LATENCY_BUCKETS, catalogSpec, type CatalogKey } from '../../src/metrics/catalog';
import { healthUrl, metricsOnlyEnv, startApp, type RunningApp } from '../support/app';
import { CANNED, startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { parseExposition, type Exposition } from '../support/prom-text';

const P = 'innatural_chatbot';

async function scrape(url: string): Promise<{ text: string; exposition: Exposition; contentType: string }> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  const text = await res.text();
  return { text, exposition: parseExposition(text), contentType: res.headers.get('content-type') ?? '' };
}

function labelKeys(exposition: Exposition, name: string): string[][] {
  return [...new Set(exposition.find(name).map((s) => JSON.stringify(Object.keys(s.labels).sort())))].map((k) => JSON.parse(k));
}

describe('the metric catalog on /metrics', () => {
  let ai: OpenAiServer;
  let app: RunningApp;
  let health: string;
  let text: string;
  let m: Exposition;

  const drive = async () => {
    const post = (path: string, body: unknown) =>
      app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const expect = async (res: Promise<Response>, status: number) => {
      const r = await res;
      await r.arrayBuffer();
      assert.equal(r.status, status, `${r.url}`);
    };
    for (let i = 0; i < 3; i++) await expect(app.get(`/api/users/${i}`), 200);
    await expect(app.get('/api/v1/items/abc'), 200);
    await expect(post('/api/chat', { message: 'salut', language: 'fr' }), 200);
    await expect(post('/api/chat', { message: 'hello', language: 'en' }), 200);
    await expect(post('/api/chat', { message: '' }), 400);
    await expect(post('/api/local-ai', { ok: true }), 200);
    await expect(app.get('/api/db'), 200);
    await expect(app.get('/api/cache'), 200);
    await expect(app.get('/api/mysql'), 200);
    await expect(post('/api/feedback', { type: 'positive' }), 200);
    await expect(app.get('/api/products/recommendations?category=hair'), 200);
    await expect(app.get('/api/limited'), 429);
    await expect(app.get('/api/fail'), 500);
    await expect(app.get('/no/such/path/123'), 404);
    await expect(app.get('/api/users/1', { method: 'PROPFIND' }), 404);
  };

  before(async () => {
    ai = await startOpenAiServer();
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: metricsOnlyEnv({
        FIXTURE_OPENAI_URL: ai.url,
        OTEL_LOGS_EXPORTER: 'none',
        // health checks, for the readiness rows: a real database and a Redis port nothing listens on
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: 'redis://127.0.0.1:1',
      }),
    });
    health = await healthUrl(app);
    await drive();
    ({ text, exposition: m } = await scrape(health));
  });

  after(async () => {
    app?.kill();
    await ai?.close();
  });

  it('serves Prometheus text format 0.0.4', async () => {
    const { contentType } = await scrape(health);
    assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
  });

  it('has every catalog row with its type, HELP and exact label keys', () => {
    for (const key of Object.keys(CATALOG) as CatalogKey[]) {
      const spec = catalogSpec(key, P);
      assert.equal(m.types.get(spec.name), spec.type, `${spec.name} TYPE`);
      assert.equal(m.help.get(spec.name), spec.help, `${spec.name} HELP`);
      const sampleName = spec.type === 'histogram' ? `${spec.name}_count` : spec.name;
      assert.deepEqual(labelKeys(m, sampleName), [[...spec.labels].sort()], `${sampleName} label keys`);
    }
  });

  it('has no otel_scope_* labels and no unit suffix beyond the documented names', () => {
    assert.doesNotMatch(text, /otel_scope_/);
    const ours = [...m.types.keys()].filter((n) => n.startsWith(P));
    const documented = (Object.keys(CATALOG) as CatalogKey[]).map((k) => catalogSpec(k, P).name);
    assert.deepEqual(ours.sort(), [...documented].sort());
  });

  it('matches the seed sample lines, with route templates and exact counts', () => {
    assert.match(text, /^innatural_chatbot_http_requests_total\{method="GET",route="\/api\/users\/:id",status_code="200"\} 3$/m);
    assert.equal(m.value(`${P}_http_requests_total`, { method: 'POST', route: '/api/chat', status_code: '200' }), 2);
    assert.equal(m.value(`${P}_http_requests_total`, { method: 'POST', route: '/api/chat', status_code: '400' }), 1);
    assert.equal(m.value(`${P}_http_requests_total`, { method: 'GET', route: '/api/v1/items/:itemId', status_code: '200' }), 1);
    assert.equal(m.value(`${P}_http_requests_total`, { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
    assert.equal(m.value(`${P}_http_requests_total`, { method: '_OTHER', route: 'unmatched', status_code: '404' }), 1);
    assert.equal(m.find(`${P}_http_requests_total`).filter((s) => /\d{2,}|abc/.test(s.labels.route!)).length, 0, 'no raw paths');
  });

  it('reports readiness and each health check as the health endpoints see them', () => {
    // Redis is down but not critical: ready, with its check at 0.
    assert.equal(m.value(`${P}_ready`, {}), 1);
    assert.equal(m.value(`${P}_health_check_up`, { check: 'database' }), 1);
    assert.equal(m.value(`${P}_health_check_up`, { check: 'redis' }), 0);
  });

  it('has the seed buckets on every histogram', () => {
    const bounds = (name: string) => [...new Set(m.find(`${name}_bucket`).map((s) => s.labels.le))];
    const asLe = (b: readonly number[]) => [...b.map(String), '+Inf'];
    assert.deepEqual(bounds(`${P}_http_request_duration_seconds`), asLe(LATENCY_BUCKETS));
    assert.deepEqual(bounds(`${P}_ai_request_duration_seconds`), asLe(LATENCY_BUCKETS));
    assert.deepEqual(bounds(`${P}_db_query_duration_seconds`), asLe(DB_BUCKETS));
    const users = { method: 'GET', route: '/api/users/:id', status_code: '200' };
    assert.equal(m.value(`${P}_http_request_duration_seconds_bucket`, { ...users, le: '+Inf' }), 3);
    assert.equal(m.value(`${P}_http_request_duration_seconds_count`, users), 3);
    assert.ok(m.value(`${P}_http_request_duration_seconds_sum`, users) > 0);
  });

  it('counts AI calls from the openai client once, tokens from its usage, and the API for other providers', () => {
    assert.equal(ai.requests, 2);
    const model = { model: CANNED.model, status: 'success' };
    assert.equal(m.value(`${P}_ai_request_duration_seconds_count`, model), 2, 'the seed call after the instrumented one is not counted twice');
    assert.equal(m.value(`${P}_ai_tokens_total`, { model: CANNED.model, type: 'prompt' }), 2 * CANNED.promptTokens);
    assert.equal(m.value(`${P}_ai_tokens_total`, { model: CANNED.model, type: 'completion' }), 2 * CANNED.completionTokens);
    assert.equal(m.value(`${P}_ai_request_duration_seconds_count`, { model: 'local-model', status: 'success' }), 1);
    assert.equal(m.value(`${P}_ai_request_duration_seconds_bucket`, { model: 'local-model', status: 'success', le: '1' }), 0);
    assert.equal(m.value(`${P}_ai_request_duration_seconds_bucket`, { model: 'local-model', status: 'success', le: '2' }), 1);
    assert.equal(m.value(`${P}_ai_tokens_total`, { model: 'local-model', type: 'prompt' }), 100);
  });

  it('counts pg queries by operation, pool connections by state, Redis operations by status', () => {
    assert.equal(m.value(`${P}_db_query_duration_seconds_count`, { operation: 'SELECT', db_system: 'postgresql' }), 2);
    assert.ok(m.value(`${P}_db_query_duration_seconds_bucket`, { operation: 'SELECT', db_system: 'postgresql', le: '0.01' }) <= 1, 'pg_sleep(0.02) is slower than 10 ms');
    assert.equal(m.value(`${P}_db_query_duration_seconds_count`, { operation: 'SELECT', db_system: 'mysql' }), 1, 'mysql2 on the local MariaDB');
    const idle = m.value(`${P}_db_connections`, { state: 'idle' });
    const used = m.value(`${P}_db_connections`, { state: 'used' });
    assert.equal(idle + used, 1, 'one pooled connection');
    assert.equal(used, 0);
    for (const op of ['set', 'get', 'del']) assert.equal(m.value(`${P}_redis_operations_total`, { operation: op, status: 'success' }), 1, op);
    assert.equal(m.value(`${P}_redis_operations_total`, { operation: 'nosuchcommand', status: 'error' }), 1);
  });

  it('counts messages, sessions, feedback, recommendations, rate limits, validation and errors', () => {
    assert.equal(m.value(`${P}_messages_total`, { role: 'user', language: 'fr' }), 1);
    assert.equal(m.value(`${P}_messages_total`, { role: 'assistant', language: 'en' }), 1);
    assert.equal(m.value(`${P}_active_sessions`), 0, 'started twice, ended twice');
    assert.equal(m.value(`${P}_user_feedback_total`, { type: 'positive' }), 1);
    assert.equal(m.value(`${P}_product_recommendations_total`, { category: 'hair' }), 1);
    assert.equal(m.value(`${P}_rate_limit_hits_total`, { route: '/api/limited' }), 1);
    assert.equal(m.value(`${P}_validation_errors_total`, { route: '/api/chat' }), 1);
    assert.equal(m.value(`${P}_errors_total`, { type: 'ValidationError', severity: 'warning' }), 1);
    assert.equal(m.value(`${P}_errors_total`, { type: 'Error', severity: 'error' }), 1, 'the thrown error’s class, seen in metrics-only mode');
  });

  it('never counts requests to its own health server', async () => {
    for (let i = 0; i < 3; i++) await scrape(health);
    const { exposition } = await scrape(health);
    assert.equal(exposition.find(`${P}_http_requests_total`, { route: 'unmatched', status_code: '200' }).length, 0);
    assert.deepEqual(
      exposition.find(`${P}_http_requests_total`).map((s) => s.value).reduce((a, b) => a + b, 0),
      m.find(`${P}_http_requests_total`).map((s) => s.value).reduce((a, b) => a + b, 0),
    );
  });

  it('passes promtool check metrics (only prom-client’s own legacy names are linted)', () => {
    const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // Exit 3 is "lint problems", 1 would be a parse error. prom-client names these gauges
    // *_total; the seed's dashboards use prom-client's names, so they are kept as they are.
    const problems = `${run.stdout}${run.stderr}`.trim().split('\n').filter((l) => l !== '');
    const legacy = /^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/;
    assert.deepEqual(problems.filter((l) => !legacy.test(l)), []);
    assert.ok(run.status === 0 || run.status === 3, `promtool exit ${run.status}`);
  });
});
