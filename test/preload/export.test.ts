/**
 * The wire: each OTLP protocol reaches a real receiver and decodes, and a receiver that
 * is down costs one warning a minute, not one per batch, then export resumes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sinkEnv, startApp } from '../support/app';
import { startOtlpGrpcSink } from '../support/otlp-grpc-sink';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

describe('OTLP export', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    await sink?.close();
  });

  const cases = [
    { protocol: 'http/protobuf', encoding: 'protobuf', compression: 'none' },
    { protocol: 'http/json', encoding: 'json', compression: 'none' },
    { protocol: 'http/protobuf', encoding: 'protobuf', compression: 'gzip' },
  ] as const;

  for (const { protocol, encoding, compression } of cases) {
    it(`exports traces, metrics and logs over ${protocol} (${compression})`, async () => {
      const service = `wire-${protocol}-${compression}`;
      const app = await startApp({
        fixture: 'express-app.js',
        env: sinkEnv(sink, {
          OTEL_SERVICE_NAME: service,
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_COMPRESSION: compression,
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_METRIC_EXPORT_INTERVAL: '200',
          FIXTURE_LOG_WITH: 'pino',
        }),
      });
      try {
        assert.equal((await app.get('/api/users/9')).status, 200);
        const span = await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === service && s.kind === 2));
        assert.equal(span.encoding, encoding);
        assert.equal(span.attributes['http.route'], '/api/users/:id');
        const metric = await sink.waitFor(() =>
          sink.metrics.find((m) => m.resource['service.name'] === service && m.name === 'http.server.request.duration'),
        );
        assert.equal(metric.encoding, encoding);
        assert.equal(metric.type, 'histogram');
        const log = await sink.waitFor(() => sink.logs.find((l) => l.resource['service.name'] === service));
        assert.equal(log.encoding, encoding);
        assert.equal(log.traceId, span.traceId, 'the log record carries the trace id of the request that wrote it');
        assert.match(app.stdout(), new RegExp(`"trace_id":"${span.traceId}"`), 'and so does the line pino wrote');
        const request = sink.requests.find((r) => r.path === '/v1/traces' && r.headers['content-encoding'] === (compression === 'gzip' ? 'gzip' : undefined));
        assert.ok(request, 'content-encoding as configured');
      } finally {
        app.kill();
      }
    });
  }

  it('sends OTEL_EXPORTER_OTLP_HEADERS with every export', async () => {
    const app = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'headers', OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=acme,authorization=Bearer%20t0k' }),
    });
    try {
      await app.get('/api/users/1');
      await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === 'headers'));
      const req = sink.requests.find((r) => r.headers['x-tenant'] === 'acme');
      assert.ok(req);
      assert.equal(req.headers.authorization, 'Bearer t0k');
    } finally {
      app.kill();
    }
  });

  it('a refusing endpoint gives one warning, not one per batch, and export resumes when it is back', async () => {
    await sink.setMode('refuse');
    const app = await startApp({
      fixture: 'express-app.js',
      // A short export timeout ends the exporter's retries quickly, so many batches fail within the test.
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'outage', OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_EXPORTER_OTLP_TIMEOUT: '300' }),
    });
    try {
      for (let i = 0; i < 60; i++) {
        assert.equal((await app.get(`/api/users/${i}`)).status, 200);
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(sink.spans.filter((s) => s.resource['service.name'] === 'outage').length, 0);
      const warnings = app.logLines().filter((l) => l.level === 'warn' || l.level === 'error');
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(String(warnings[0]!.message), /export failed.*ECONNREFUSED/i);

      await sink.setMode('ok');
      assert.equal((await app.get('/api/users/after-recovery')).status, 200);
      await sink.waitFor(() =>
        sink.spans.find((s) => s.resource['service.name'] === 'outage' && s.attributes['url.path'] === '/api/users/after-recovery'),
      );
    } finally {
      await sink.setMode('ok');
      app.kill();
    }
  });
});

describe('OTLP export over gRPC', () => {
  it('exports traces and metrics over grpc, headers as metadata', async () => {
    const sink = await startOtlpGrpcSink();
    const app = await startApp({
      fixture: 'express-app.js',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-tenant=grpc-acme',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_METRICS_EXPORTER: 'otlp',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
        OTEL_SERVICE_NAME: 'wire-grpc',
      },
    });
    try {
      assert.equal((await app.get('/api/users/3')).status, 200);
      const span = await sink.waitFor(() => sink.spans.find((s) => s.kind === 2));
      assert.equal(span.attributes['http.route'], '/api/users/:id');
      assert.equal(span.resource['service.name'], 'wire-grpc');
      await sink.waitFor(() => sink.metrics.find((m) => m.name === 'http.server.request.duration'));
      assert.ok(sink.metadata.some((m) => m.get('x-tenant')[0] === 'grpc-acme'));
    } finally {
      app.kill();
      await sink.close();
    }
  });
});
