/**
 * The chatbot stack under `--require ./register`: an Express 5 app reaching PostgreSQL,
 * Redis (ioredis and node-redis) and another instrumented service, all spans checked
 * at a real OTLP/HTTP receiver.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTP_SERVER_SCOPE } from '../../src/instrumentations/http-server';
import { sinkEnv, startApp, type RunningApp } from '../support/app';
import { REPO_VERSION } from '../support/repo-version';
import { startOtlpSink, type OtlpSink, type SinkSpan } from '../support/otlp-sink';

const SERVER = 2;
const CLIENT = 3;

describe('traces from a CommonJS express app', () => {
  let sink: OtlpSink;
  let app: RunningApp;
  let upstream: RunningApp;

  before(async () => {
    sink = await startOtlpSink();
    [app, upstream] = await Promise.all([
      startApp({ fixture: 'express-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'front' }) }),
      startApp({ fixture: 'express-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'upstream' }) }),
    ]);
  });

  after(async () => {
    app?.kill();
    upstream?.kill();
    await sink?.close();
  });

  const serverSpan = (service: string, route: string) =>
    sink.waitFor(() =>
      sink.spans.find((s) => s.kind === SERVER && s.resource['service.name'] === service && s.attributes['http.route'] === route),
    );
  const children = (parent: SinkSpan) => sink.spans.filter((s) => s.parentSpanId === parent.spanId);

  it('records the server span with http.route and exactly one express handler span', async () => {
    const res = await app.get('/api/users/42');
    assert.equal(res.status, 200);
    const server = await serverSpan('front', '/api/users/:id');
    assert.equal(server.name, 'GET /api/users/:id');
    assert.equal(server.attributes['http.response.status_code'], 200);
    assert.equal(server.scope.name, HTTP_SERVER_SCOPE);
    const handlers = await sink.waitFor(() => {
      const found = sink.spans.filter((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'request_handler');
      return found.length > 0 && found;
    });
    // Give a duplicate (router instrumentation) time to arrive before counting.
    await new Promise((r) => setTimeout(r, 300));
    const all = sink.spans.filter((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'request_handler');
    assert.equal(all.length, 1, `handler spans: ${all.map((s) => `${s.scope.name}:${s.name}`).join(', ')}`);
    assert.equal(handlers[0]!.attributes['http.route'], '/api/users/:id');
    assert.equal(handlers[0]!.name, 'request handler - /api/users/:id');
    assert.equal(handlers[0]!.parentSpanId, server.spanId);
    assert.equal(sink.spans.filter((s) => s.scope.name.includes('instrumentation-router')).length, 0);
    assert.equal(
      sink.spans.filter((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'middleware').length,
      0,
      'no span per middleware layer by default',
    );
  });

  it('INNATURAL_EXPRESS_LAYER_SPANS=true brings back a span per middleware (the stock instrumentation)', async () => {
    const layered = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'layered', INNATURAL_EXPRESS_LAYER_SPANS: 'true' }),
    });
    try {
      await (await layered.get('/api/users/3')).text();
      const server = await serverSpan('layered', '/api/users/:id');
      const middleware = await sink.waitFor(() =>
        sink.spans.find((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'middleware'),
      );
      assert.equal(middleware.scope.name, '@opentelemetry/instrumentation-express');
    } finally {
      layered.kill();
    }
  });

  it('records a pg query against the real PostgreSQL', async () => {
    const res = await app.get('/api/db');
    assert.deepEqual(await res.json(), { n: 42 });
    const server = await serverSpan('front', '/api/db');
    const query = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === server.traceId && s.scope.name === '@opentelemetry/instrumentation-pg' && /SELECT/.test(s.name)),
    );
    assert.equal(query.kind, CLIENT);
    const system = query.attributes['db.system.name'] ?? query.attributes['db.system'];
    assert.equal(system, 'postgresql');
    const text = String(query.attributes['db.query.text'] ?? query.attributes['db.statement']);
    assert.match(text, /SELECT \$1::int AS n/);
  });

  it('records ioredis and node-redis commands against the real Redis', async () => {
    const res = await app.get('/api/cache');
    assert.deepEqual(await res.json(), { value: 'nr' });
    const server = await serverSpan('front', '/api/cache');
    const inTrace = (scope: string) =>
      sink.spans.filter((s) => s.traceId === server.traceId && s.scope.name === `@opentelemetry/instrumentation-${scope}`);
    const io = await sink.waitFor(() => {
      const names = inTrace('ioredis').map((s) => s.name);
      return names.includes('set') && names.includes('del') && inTrace('ioredis');
    });
    const nr = await sink.waitFor(() => inTrace('redis').length >= 3 && inTrace('redis'));
    assert.ok(['SET', 'GET', 'DEL'].every((cmd) => nr.some((s) => s.name.toUpperCase().includes(cmd))), nr.map((s) => s.name).join());
    for (const span of [...io, ...nr]) assert.equal(span.kind, CLIENT);
  });

  it('propagates the trace through fetch to another instrumented process', async () => {
    const res = await app.get(`/api/proxy?to=${encodeURIComponent(upstream.url)}`);
    assert.deepEqual(await res.json(), { upstream: { id: '7' } });
    const front = await serverSpan('front', '/api/proxy');
    const fetchSpan = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === front.traceId && s.scope.name === '@opentelemetry/instrumentation-undici'),
    );
    assert.equal(fetchSpan.kind, CLIENT);
    const remote = await sink.waitFor(() =>
      sink.spans.find((s) => s.resource['service.name'] === 'upstream' && s.kind === SERVER && s.traceId === front.traceId),
    );
    assert.equal(remote.parentSpanId, fetchSpan.spanId, 'the upstream server span is a child of the fetch span');
    assert.equal(remote.attributes['http.route'], '/api/users/:id');
    assert.ok(children(front).length >= 1);
  });

  it('keeps the request context through a body read in many chunks, a client call and the response finish', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => `item-${i}`);
    const res = await fetch(`${app.url}/api/body?to=${encodeURIComponent(upstream.url)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
    });
    assert.deepEqual(await res.json(), { items: 20_000, upstream: { id: '20000' } });
    const front = await serverSpan('front', '/api/body');
    assert.equal(front.name, 'POST /api/body');
    const fetchSpan = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === front.traceId && s.scope.name === '@opentelemetry/instrumentation-undici'),
    );
    // The upstream's own handler span is in the same trace: this one is front's.
    const handler = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === front.traceId && s.resource['service.name'] === 'front' && s.attributes['express.type'] === 'request_handler'),
    );
    assert.equal(handler.parentSpanId, front.spanId);
    assert.equal(fetchSpan.parentSpanId, handler.spanId, 'the client call made after the body arrived is in the handler span');
    const remote = await sink.waitFor(() =>
      sink.spans.find((s) => s.resource['service.name'] === 'upstream' && s.kind === SERVER && s.traceId === front.traceId),
    );
    assert.equal(remote.parentSpanId, fetchSpan.spanId);
  });

  it('sets the stable HTTP attributes on the server span, and a fresh root for each request of a keep-alive connection', async () => {
    const first = await fetch(`${app.url}/api/users/5?page=2`, {
      headers: {
        'user-agent': 'attr-test',
        'x-forwarded-for': '203.0.113.9, 10.0.0.1',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
    });
    await first.text();
    const second = await fetch(`${app.url}/api/users/6`);
    await second.text();
    const a = await sink.waitFor(() => sink.spans.find((s) => s.kind === SERVER && s.attributes['url.path'] === '/api/users/5'));
    const b = await sink.waitFor(() => sink.spans.find((s) => s.kind === SERVER && s.attributes['url.path'] === '/api/users/6'));
    assert.equal(a.attributes['http.request.method'], 'GET');
    assert.equal(a.attributes['url.scheme'], 'http');
    assert.equal(a.attributes['url.query'], 'page=2');
    assert.equal(a.attributes['server.address'], '127.0.0.1');
    assert.equal(a.attributes['server.port'], Number(new URL(app.url).port));
    assert.equal(a.attributes['client.address'], '203.0.113.9');
    assert.equal(a.attributes['network.peer.address'], '127.0.0.1');
    assert.equal(typeof a.attributes['network.peer.port'], 'number');
    assert.equal(a.attributes['network.protocol.version'], '1.1');
    assert.equal(a.attributes['user_agent.original'], 'attr-test');
    assert.notEqual(a.traceId, b.traceId, 'the second request on the connection does not inherit the first one’s trace');
    assert.equal(b.parentSpanId, '');
    assert.equal(a.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
    assert.equal(a.parentSpanId, '00f067aa0ba902b7');
  });

  it('describes the service on the resource', async () => {
    const server = await serverSpan('front', '/api/users/:id');
    assert.equal(server.resource['service.version'], REPO_VERSION, 'from the nearest package.json');
    assert.equal(server.resource['telemetry.sdk.language'], 'nodejs');
    assert.equal(typeof server.resource['process.pid'], 'number');
    assert.equal(server.resource['process.command_args'], undefined, 'argv can carry secrets');
    assert.ok(server.resource['host.name']);
  });
});
