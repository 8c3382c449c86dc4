import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { sentrySpanExporter } from './sentry-otlp';

/** What a collector setup puts in the environment: none of it is Sentry's. */
const COLLECTOR_ENV = {
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer collector-token',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-collector-tenant=acme',
  OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip',
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector.invalid:4318/v1/traces',
  OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: '/nonexistent/collector-client.key',
};

describe('sentrySpanExporter', () => {
  const saved: Record<string, string | undefined> = {};
  before(() => {
    for (const [key, value] of Object.entries(COLLECTOR_ENV)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });
  after(() => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it('sends Sentry’s auth to Sentry’s URL, and nothing from OTEL_EXPORTER_OTLP_*', async () => {
    let headers: IncomingHttpHeaders = {};
    let path = '';
    const server = createServer((req, res) => {
      headers = req.headers;
      path = req.url ?? '';
      req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end());
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/42/integration/otlp/v1/traces/`;
    const exporter = sentrySpanExporter({ url, headers: { 'X-Sentry-Auth': 'Sentry sentry_version=7, sentry_key=publickey123' } });
    assert.ok(exporter, 'the parts are where this release keeps them');
    const memory = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
    provider.getTracer('t').startSpan('s').end();
    try {
      const result = await new Promise<ExportResult>((resolve) => exporter.export(memory.getFinishedSpans(), resolve));
      assert.equal(result.code, ExportResultCode.SUCCESS, String(result.error));
      assert.equal(path, '/api/42/integration/otlp/v1/traces/');
      assert.equal(headers['x-sentry-auth'], 'Sentry sentry_version=7, sentry_key=publickey123');
      assert.equal(headers['content-type'], 'application/x-protobuf');
      assert.equal(headers.authorization, undefined);
      assert.equal(headers['x-collector-tenant'], undefined);
      assert.equal(headers['content-encoding'], undefined, 'OTEL_EXPORTER_OTLP_COMPRESSION is the collector’s');
    } finally {
      await exporter.shutdown();
      await provider.shutdown();
      server.close();
    }
  });
});
