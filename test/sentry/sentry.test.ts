/**
 * Sentry beside OpenTelemetry: errors reach a local Sentry ingestion sink with their stack,
 * request and the trace id the OTLP sink saw; spans reach Sentry's OTLP endpoint; Sentry
 * starts no trace of its own; without a DSN no Sentry module loads.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { startSentrySink, type SentrySink } from '../support/sentry-sink';

type Event = Record<string, any>;

describe('Sentry', () => {
  let otlp: OtlpSink;
  let sentry: SentrySink;
  let app: RunningApp;

  before(async () => {
    otlp = await startOtlpSink();
    sentry = await startSentrySink();
    app = await startApp({ fixture: 'sentry-app.js', env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, OTEL_SERVICE_NAME: 'sentry-app', SENTRY_ENVIRONMENT: 'staging' }) });
  });
  after(async () => {
    app?.kill();
    await otlp?.close();
    await sentry?.close();
  });

  const eventWith = (value: string) =>
    sentry.waitFor(() => sentry.events.find((e: Event) => e.exception?.values?.some((v: Event) => v.value === value)) as Event | undefined);

  const serverSpan = (route: string) => otlp.waitFor(() => otlp.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === route));

  for (const [path, type, value] of [
    ['/api/boom', 'Error', 'handler exploded'],
    ['/api/next-error', 'TypeError', 'passed to next'],
    ['/api/async-boom', 'RangeError', 'async handler exploded'],
  ] as const) {
    it(`captures ${path} once, with stack, request and the OpenTelemetry trace id`, async () => {
      assert.equal((await app.get(`${path}?page=2`)).status, 500);
      const event = await eventWith(value);
      const exception = event.exception.values.at(-1);
      assert.equal(exception.type, type);
      assert.ok(exception.stacktrace.frames.length > 0);
      assert.ok(exception.stacktrace.frames.some((f: Event) => String(f.filename).endsWith('sentry-app.js')));
      assert.equal(exception.mechanism.type, 'express');
      assert.equal(exception.mechanism.handled, false);
      assert.equal(event.request.method, 'GET');
      assert.equal(event.request.url, `${path}?page=2`);
      assert.equal(event.environment, 'staging');
      const span = await serverSpan(path);
      assert.equal(event.contexts.trace.trace_id, span.traceId, 'the same trace as the OTLP spans');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(sentry.events.filter((e: Event) => e.exception?.values?.some((v: Event) => v.value === value)).length, 1, 'once');
    });
  }

  it('does not capture 4xx', async () => {
    assert.equal((await app.get('/api/bad-request')).status, 400);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sentry.events.filter((e: Event) => e.exception?.values?.some((v: Event) => v.value === 'bad input')).length, 0);
  });

  it('the seed’s API: captureException with context, captureMessage, breadcrumbs, createSpan', async () => {
    const res = await app.get('/api/manual');
    const { id } = (await res.json()) as { id: string };
    assert.match(id, /^[0-9a-f]{32}$/);
    const error = await eventWith('Something went wrong');
    assert.equal(error.event_id, id);
    assert.deepEqual(error.contexts.context, { userId: 'user_123', action: 'checkout' });
    assert.ok(error.breadcrumbs.some((b: Event) => b.message === 'User clicked checkout button' && b.category === 'user' && b.data.productId === 'prod_123'));
    const message = await sentry.waitFor(() => sentry.events.find((e: Event) => e.message === 'Important event occurred') as Event | undefined);
    assert.equal(message.level, 'warning');
    assert.deepEqual(message.contexts.context, { details: 'Additional context' });
    const server = await serverSpan('/api/manual');
    const child = await otlp.waitFor(() => otlp.spans.find((s) => s.name === 'Save order to database'));
    assert.equal(child.traceId, server.traceId, 'a child within the request’s trace');
    assert.ok(otlp.spans.some((s) => s.spanId === child.parentSpanId && s.traceId === server.traceId));
    assert.equal(child.attributes['sentry.op'], 'db.query');
    const crumbSpan = otlp.spans.find((s) => s.events.some((e) => e.name === 'breadcrumb'));
    assert.ok(crumbSpan, 'the breadcrumb is also an event on the active span');
    await otlp.waitFor(() => otlp.spans.find((s) => s.name === 'nightly-job' && s.attributes['sentry.op'] === 'task'));
    assert.equal(error.contexts.trace.trace_id, server.traceId);
  });

  it('spans reach Sentry’s OTLP endpoint for the DSN, with its auth header', async () => {
    await app.get('/api/ok');
    const span = await sentry.waitFor(() => sentry.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/ok'));
    assert.equal(span.name, 'GET /api/ok');
    assert.ok(sentry.otlpHeaders.some((h) => /sentry_key=publickey123/.test(String(h['x-sentry-auth']))));
  });

  it('with OTEL_TRACES_EXPORTER=none, spans still go to Sentry', async () => {
    const sentryOnly = await startApp({
      fixture: 'sentry-app.js',
      env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: 'sentry-only' }),
    });
    try {
      await (await sentryOnly.get('/api/ok')).text();
      const span = await sentry.waitFor(() =>
        sentry.spans.find((s) => s.resource['service.name'] === 'sentry-only' && s.kind === 2 && s.attributes['http.route'] === '/api/ok'),
      );
      assert.equal(span.name, 'GET /api/ok');
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(otlp.spans.filter((s) => s.resource['service.name'] === 'sentry-only').length, 0, 'nothing to the OTLP endpoint');
    } finally {
      sentryOnly.kill();
    }
  });

  it('Sentry starts no trace and no HTTP span of its own', async () => {
    await app.get('/api/ok');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sentry.items.filter((i) => i.type === 'transaction' || i.type === 'span').length, 0);
    const okSpans = otlp.spans.filter((s) => s.kind === 2 && s.attributes['http.route'] === '/api/ok');
    const traces = new Set(okSpans.map((s) => s.traceId));
    assert.equal(okSpans.length, traces.size, 'one server span per request');
  });

  it('propagates sentry-trace and Sentry baggage with traceparent', async () => {
    const res = await app.get(`/api/call?to=${encodeURIComponent(app.url)}`);
    const headers = (await res.json()) as Record<string, string>;
    const traceparent = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(headers.traceparent ?? '');
    assert.ok(traceparent, headers.traceparent);
    assert.equal(headers['sentry-trace'], `${traceparent[1]}-${traceparent[2]}-1`);
    assert.match(headers.baggage ?? '', new RegExp(`sentry-trace_id=${traceparent[1]}`));
    assert.match(headers.baggage ?? '', /sentry-environment=staging/);
  });

  it('an uncaught exception reaches Sentry before the process exits with status 1', async () => {
    const crashing = await startApp({ fixture: 'sentry-app.js', env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, OTEL_SERVICE_NAME: 'crashing' }) });
    try {
      await (await crashing.get('/api/crash')).text();
      const exit = await crashing.exited;
      assert.deepEqual(exit, { code: 1, signal: null });
      const event = sentry.events.find((e: Event) => e.exception?.values?.some((v: Event) => v.value === 'fixture crash for sentry')) as Event;
      assert.ok(event, 'sent before exit');
      assert.equal(event.level, 'fatal');
      assert.equal(event.exception.values.at(-1).mechanism.handled, false);
    } finally {
      crashing.kill();
    }
  });

  it('SENTRY_PROFILES_SAMPLE_RATE turns on @sentry/profiling-node', async () => {
    const profiled = await startApp({
      fixture: 'sentry-app.js',
      env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, SENTRY_PROFILES_SAMPLE_RATE: '1', OTEL_SERVICE_NAME: 'profiled' }),
    });
    try {
      assert.equal((await profiled.get('/api/boom')).status, 500);
      const event = await sentry.waitFor(
        () =>
          sentry.events.find(
            (e: Event) => e.exception?.values?.some((v: Event) => v.value === 'handler exploded') && e.sdk?.integrations?.includes('ProfilingIntegration'),
          ) as Event | undefined,
      );
      assert.ok(event);
      assert.equal(profiled.logLines().filter((l) => l.level === 'warn' || l.level === 'error').filter((l) => /profil/i.test(String(l.message))).length, 0);
    } finally {
      profiled.kill();
    }
  });

  it('without SENTRY_DSN no @sentry module is loaded, and errors are JSON lines', async () => {
    const plain = await startApp({ fixture: 'sentry-app.js', env: sinkEnv(otlp, { OTEL_SERVICE_NAME: 'no-sentry' }) });
    try {
      assert.deepEqual(await (await plain.get('/api/loaded')).json(), []);
      assert.equal((await plain.get('/api/boom')).status, 500);
      await new Promise((r) => setTimeout(r, 100));
      const line = plain.logLines().find((l) => l.message === 'handler exploded');
      assert.ok(line, plain.stderr());
      assert.equal(line.level, 'error');
      assert.equal((line.error as Event).type, 'Error');
      assert.match((line.error as Event).stack, /sentry-app\.js/);
      assert.equal((line.request as Event).url, '/api/boom');
      assert.match(String(line.traceId), /^[0-9a-f]{32}$/);
    } finally {
      plain.kill();
    }
  });
});
