/**
 * The health server: the seed's JSON shapes, the status rules against the real
 * PostgreSQL and Redis, caching and single flight, readiness at SIGTERM, a taken port,
 * response timing, app routes, the token, and no secret in any answer.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { healthUrl, sinkEnv, startApp, type RunningApp } from '../support/app';
import { REPO_VERSION } from '../support/repo-version';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { parseExposition } from '../support/prom-text';

const PG = 'postgres://postgres@127.0.0.1:5432/test';
const REDIS = 'redis://127.0.0.1:6379';

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** Accepts connections and never says a word. */
async function blackhole(): Promise<{ port: number; server: Server }> {
  const server = createServer(() => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, server };
}

async function getJson(url: string, init?: RequestInit): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('health server', () => {
  let sink: OtlpSink;
  const apps: RunningApp[] = [];
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    for (const app of apps) app.kill();
    await sink?.close();
  });

  async function start(env: Record<string, string>, fixture = 'health-app.js') {
    const app = await startApp({ fixture, env: sinkEnv(sink, { OTEL_METRICS_EXPORTER: 'prometheus', ...env }) });
    apps.push(app);
    return { app, health: await healthUrl(app) };
  }

  it('/api/health gives the seed document, every field, healthy against the real PostgreSQL and Redis', async () => {
    const { health } = await start({ DATABASE_URL: PG, REDIS_URL: REDIS, OPENAI_API_KEY: 'sk-canary-not-shown', NODE_ENV: 'production' });
    const { status, body } = await getJson(`${health}/api/health`);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, 'healthy', JSON.stringify(body));
    assert.match(body.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(typeof body.uptime.seconds, 'number');
    assert.match(body.uptime.formatted, /^(\d+d )?\d+h \d+m \d+s$/);
    assert.ok(Date.parse(body.uptime.startTime) <= Date.now());
    assert.equal(body.version, REPO_VERSION);
    assert.equal(body.environment, 'production');
    assert.equal(typeof body.responseTime, 'number');
    assert.deepEqual(Object.keys(body).sort(), ['environment', 'instrumentations', 'responseTime', 'services', 'status', 'system', 'timestamp', 'uptime', 'version']);
    assert.deepEqual(Object.keys(body.instrumentations), ['active', 'deferred', 'missing', 'unsupported', 'failed']);
    const { database, redis, ai, custom } = body.services;
    assert.equal(database.status, 'healthy');
    assert.equal(database.connected, true);
    assert.equal(typeof database.responseTime, 'number');
    assert.deepEqual({ ...redis, responseTime: 0 }, { status: 'healthy', connected: true, responseTime: 0, message: 'Redis operational' });
    assert.deepEqual(ai, { status: 'healthy', configured: true, message: 'API key configured' });
    assert.equal(custom.status, 'healthy');
    const { memory, cpu, disk } = body.system;
    assert.match(memory.status, /^(healthy|warning|critical)$/);
    assert.match(memory.heap.total, /^\d+MB$/);
    assert.match(memory.heap.used, /^\d+MB$/);
    assert.match(memory.heap.usage, /^\d+\.\d\d%$/);
    assert.match(memory.rss, /^\d+MB$/);
    for (const key of ['user', 'system', 'total']) assert.match(cpu[key], /^\d+\.\d\d%$/);
    assert.match(disk.status, /^(healthy|warning|critical)$/);
    assert.match(disk.free, /^\d+\.\dGB$/);
    assert.match(disk.total, /^\d+\.\dGB$/);
    assert.match(disk.usage, /^\d+\.\d\d%$/);
    assert.equal(body.system.nodejs, process.version);
    assert.equal(body.system.platform, process.platform);
    assert.equal(body.system.arch, process.arch);
  });

  it('Redis down is degraded (200); PostgreSQL down is unhealthy (503) and not ready', async () => {
    const port = await closedPort();
    const redisDown = await start({ REDIS_URL: `redis://127.0.0.1:${port}` });
    const r = await getJson(`${redisDown.health}/api/health`);
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'degraded');
    assert.equal(r.body.services.redis.status, 'unhealthy');
    assert.equal(r.body.services.redis.connected, false);
    assert.equal((await getJson(`${redisDown.health}/api/health/ready`)).status, 200, 'Redis is not critical');

    const pgDown = await start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test` });
    const p = await getJson(`${pgDown.health}/api/health`);
    assert.equal(p.status, 503);
    assert.equal(p.body.status, 'unhealthy');
    assert.equal(p.body.services.database.connected, false);
    const ready = await getJson(`${pgDown.health}/api/health/ready`);
    assert.equal(ready.status, 503);
    assert.equal(ready.body.status, 'not_ready');
    assert.deepEqual(ready.body.failing, ['database']);
    const live = await getJson(`${pgDown.health}/api/health/live`);
    assert.equal(live.status, 200);
    assert.deepEqual(Object.keys(live.body).sort(), ['status', 'timestamp']);
    assert.equal(live.body.status, 'ok');
  });

  it('a database that accepts and never answers still gives an answer within the timeout + 1 s', async () => {
    const hole = await blackhole();
    try {
      const { health } = await start({ DATABASE_URL: `postgres://postgres@127.0.0.1:${hole.port}/test`, INNATURAL_HEALTH_CHECK_TIMEOUT_MS: '1000' });
      const started = performance.now();
      const { status, body } = await getJson(`${health}/api/health`);
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 2000, `${elapsed} ms`);
      assert.equal(status, 503);
      assert.match(body.services.database.message, /timed out after 1000 ms/);
      const liveStarted = performance.now();
      assert.equal((await getJson(`${health}/api/health/live`)).status, 200);
      assert.ok(performance.now() - liveStarted < 500);
    } finally {
      hole.server.close();
    }
  });

  it('1,000 concurrent /api/health requests run each check once (single flight), then the cache answers', async () => {
    const { app, health } = await start({});
    const answers = await Promise.all(Array.from({ length: 1000 }, () => fetch(`${health}/api/health`).then((r) => r.status)));
    assert.ok(answers.every((s) => s === 200));
    await getJson(`${health}/api/health`);
    assert.equal(await (await app.get('/calls')).text(), '1');
  });

  it('readiness is 503 from SIGTERM on, while the app drains', async () => {
    const { app, health } = await start({ FIXTURE_SIGTERM_HANDLER: 'true' });
    assert.equal((await getJson(`${health}/api/health/ready`)).status, 200);
    app.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    const ready = await getJson(`${health}/api/health/ready`);
    assert.equal(ready.status, 503);
    assert.deepEqual({ ...ready.body, timestamp: 'x' }, { status: 'not_ready', reason: 'shutting down', timestamp: 'x' });
    assert.equal((await app.get('/')).status, 200, 'the app still serves while it drains');
  });

  it('with no app handler, readiness is 503 while the SIGTERM flush runs, then the process dies by SIGTERM', async () => {
    const hole = await blackhole();
    try {
      const { app, health } = await start({
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${hole.port}`,
        OTEL_BSP_SCHEDULE_DELAY: '60000',
        INNATURAL_SHUTDOWN_TIMEOUT_MS: '1500',
      });
      await (await app.get('/')).text();
      const killedAt = performance.now();
      app.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      const ready = await getJson(`${health}/api/health/ready`);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.reason, 'shutting down');
      const exit = await app.exited;
      assert.deepEqual(exit, { code: null, signal: 'SIGTERM' });
      const waited = performance.now() - killedAt;
      assert.ok(waited >= 1200 && waited < 4000, `exited after ${waited} ms: the flush is bounded by INNATURAL_SHUTDOWN_TIMEOUT_MS`);
    } finally {
      hole.server.close();
    }
  });

  it('a taken port is one error line and the app serves on', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as { port: number }).port;
      const app = await startApp({ fixture: 'health-app.js', env: sinkEnv(sink, { INNATURAL_HEALTH_PORT: String(port) }) });
      apps.push(app);
      assert.equal((await app.get('/')).status, 200);
      await new Promise((r) => setTimeout(r, 200));
      const errors = app.logLines().filter((l) => l.level === 'error');
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]!.message), new RegExp(`Health server cannot listen on 127.0.0.1:${port}: .*EADDRINUSE.*the app runs on`));
    } finally {
      taken.close();
    }
  });

  it('every app response carries X-Response-Time, also with res.writeHead; the name is configurable', async () => {
    const { app } = await start({});
    for (const path of ['/', '/raw']) {
      const res = await app.get(path);
      assert.match(res.headers.get('x-response-time') ?? '', /^\d+\.\d{2}ms$/, path);
    }
    assert.equal((await app.get('/raw')).status, 201);
    const renamed = await start({ INNATURAL_RESPONSE_TIME_HEADER: 'X-Elapsed' });
    const res = await renamed.app.get('/');
    assert.match(res.headers.get('x-elapsed') ?? '', /^\d+\.\d{2}ms$/);
    assert.equal(res.headers.get('x-response-time'), null);
    const off = await start({ INNATURAL_RESPONSE_TIME_HEADER: 'false' });
    assert.equal((await off.app.get('/')).headers.get('x-response-time'), null);
  });

  it('logs the seed’s "Slow request detected" line above the threshold', async () => {
    const { app } = await start({ INNATURAL_SLOW_REQUEST_MS: '50' });
    await (await app.get('/slow?ms=10')).text();
    await (await app.get('/slow?ms=150')).text();
    await new Promise((r) => setTimeout(r, 100));
    const slow = app.logLines().filter((l) => l.message === 'Slow request detected');
    assert.equal(slow.length, 1);
    const line = slow[0]!;
    assert.equal(line.level, 'warn');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, 'unmatched');
    assert.match(String(line.duration), /^0\.1\d+s$|^0\.[2-9]\d*s$/);
    assert.equal(line.statusCode, '200');
    assert.match(String(line.traceId), /^[0-9a-f]{32}$/);
  });

  it('INNATURAL_APP_ROUTES=true answers /metrics and /api/health on the app port; the app never sees them', async () => {
    const { app } = await start({ INNATURAL_APP_ROUTES: 'true' });
    const metrics = await app.get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^# HELP innatural_chatbot_http_request_duration_seconds/m);
    const health = await getJson(`${app.url}/api/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.services.custom.status, 'healthy');
    assert.equal((await app.get('/raw')).status, 201, 'other paths still reach the app');
    assert.doesNotMatch(app.stdout(), /app saw \/(metrics|api\/health)/);
    const m = parseExposition(await (await app.get('/metrics')).text());
    assert.equal(m.find('innatural_chatbot_http_requests_total').reduce((n, s) => n + s.value, 0), 1, 'only /raw was app traffic');
  });

  it('INNATURAL_METRICS_TOKEN protects /metrics and the summary; probes stay open', async () => {
    const { health } = await start({ INNATURAL_METRICS_TOKEN: 'tok-canary-123' });
    assert.equal((await fetch(`${health}/metrics`)).status, 401);
    assert.equal((await fetch(`${health}/api/metrics/summary`)).status, 401);
    assert.equal((await fetch(`${health}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    assert.equal((await fetch(`${health}/metrics`, { headers: { authorization: 'Bearer tok-canary-123' } })).status, 200);
    for (const probe of ['/api/health', '/api/health/live', '/api/health/ready']) assert.equal((await fetch(`${health}${probe}`)).status, 200);
  });

  it('unknown paths are 404 JSON, other methods 405', async () => {
    const { health } = await start({});
    const missing = await getJson(`${health}/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'not found');
    const post = await fetch(`${health}/api/health`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });

  it('/api/metrics/summary has the seed shape and agrees with /metrics', async () => {
    const { app, health } = await start({});
    for (let i = 0; i < 3; i++) await (await app.get('/')).text();
    const { body } = await getJson(`${health}/api/metrics/summary`);
    assert.equal(body.success, true);
    assert.deepEqual(Object.keys(body.metrics).sort(), ['ai', 'database', 'errors', 'messages', 'requests', 'sessions']);
    assert.deepEqual(Object.keys(body.metrics.requests).sort(), ['avgDuration', 'errors', 'success', 'total']);
    assert.deepEqual(Object.keys(body.metrics.messages).sort(), ['byLanguage', 'byRole', 'total']);
    assert.deepEqual(Object.keys(body.metrics.ai).sort(), ['avgDuration', 'requests', 'tokensUsed']);
    assert.deepEqual(Object.keys(body.metrics.database).sort(), ['avgQueryDuration', 'connections']);
    assert.deepEqual(Object.keys(body.metrics.errors).sort(), ['byType', 'total']);
    assert.equal(typeof body.metrics.sessions.active, 'number');
    const m = parseExposition(await (await fetch(`${health}/metrics`)).text());
    const total = m.find('innatural_chatbot_http_requests_total').reduce((n, s) => n + s.value, 0);
    assert.equal(body.metrics.requests.total, total);
    assert.equal(body.metrics.requests.total, 3);
    assert.equal(body.metrics.requests.success, 3);
    assert.ok(Date.parse(body.timestamp) > 0);
  });

  it('a canary password in DATABASE_URL never appears in any answer or log', async () => {
    const canary = 'pgPasswordCanary9876';
    const port = await closedPort();
    const { app, health } = await start({
      DATABASE_URL: `postgres://postgres:${canary}@127.0.0.1:${port}/test`,
      REDIS_URL: `redis://:${canary}@127.0.0.1:${port}`,
      INNATURAL_APP_ROUTES: 'true',
    });
    const bodies: string[] = [];
    for (const path of ['/api/health', '/api/health/ready', '/api/health/live', '/metrics', '/api/metrics/summary', '/nope']) {
      bodies.push(await (await fetch(`${health}${path}`)).text());
      bodies.push(await (await app.get(path)).text());
    }
    await new Promise((r) => setTimeout(r, 100));
    const everything = bodies.join('\n') + app.stdout() + app.stderr();
    assert.ok(everything.includes('"database"'), 'the check did run');
    assert.ok(!everything.includes(canary), 'the canary leaked');
  });
});
