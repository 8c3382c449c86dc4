import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { createOtlpExporter, protobufSpanExporter } from './otlp';

async function finishedSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
  const tracer = provider.getTracer('otlp-test', '1.2.3');
  const parent = tracer.startSpan('GET /api/users/:id', { kind: SpanKind.SERVER, attributes: { 'http.route': '/api/users/:id', 'http.response.status_code': 200 } });
  parent.addEvent('checkpoint', { step: 1 });
  parent.end();
  // Read before shutdown: shutting the in-memory exporter down empties it.
  const spans = memory.getFinishedSpans();
  await provider.shutdown();
  return spans;
}

async function capture(make: (url: string) => SpanExporter, spans: ReadableSpan[]): Promise<{ body: Buffer; headers: IncomingHttpHeaders; result: ExportResult }> {
  let body = Buffer.alloc(0);
  let headers: IncomingHttpHeaders = {};
  const server = createServer((req, res) => {
    headers = req.headers;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      body = Buffer.concat(chunks);
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const exporter = make(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`);
  try {
    const result = await new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));
    return { body, headers, result };
  } finally {
    await exporter.shutdown();
    server.close();
  }
}

describe('protobufSpanExporter', () => {
  it('sends the very bytes and headers the stock OTLPTraceExporter sends', async () => {
    const spans = await finishedSpans();
    const options = (url: string) => ({ url, headers: { 'x-tenant': 'acme' }, timeoutMillis: 2000, concurrencyLimit: 4 });
    const stock = await capture((url) => new OTLPTraceExporter(options(url)), spans);
    const lean = await capture((url) => protobufSpanExporter<SpanExporter>(options(url))!, spans);
    assert.equal(lean.result.code, ExportResultCode.SUCCESS);
    assert.ok(lean.body.length > 50, `${lean.body.length} bytes, stock ${stock.body.length}, ${JSON.stringify(lean.headers)}`);
    assert.deepEqual(lean.body, stock.body);
    assert.equal(lean.headers['content-type'], 'application/x-protobuf');
    assert.equal(lean.headers['x-tenant'], 'acme');
    assert.equal(lean.headers['user-agent'], stock.headers['user-agent']);
  });

  it('loads neither sdk-metrics nor the metric and log serializers', () => {
    const script = `
      const { protobufSpanExporter } = require(${JSON.stringify(require.resolve('./otlp'))});
      if (!protobufSpanExporter({ url: 'http://127.0.0.1:1/v1/traces' })) throw new Error('no exporter');
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
    const loaded = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' })) as string[];
    assert.ok(loaded.some((f) => f.includes('trace-serializer')), 'the trace serializer is loaded');
    assert.deepEqual(loaded.filter((f) => /sdk-metrics|metrics-serializer|logs-serializer|exporter-trace-otlp-proto\/build\/src\/platform/.test(f)), []);
  });
});

describe('createOtlpExporter over HTTP: the stock exporters’ requests, from our transport', () => {
  type AnyExporter = { export(items: unknown, done: (r: ExportResult) => void): void; shutdown(): Promise<void> };

  async function logRecords(): Promise<unknown[]> {
    const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
    const memory = new InMemoryLogRecordExporter();
    const provider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: memory })] });
    provider.getLogger('otlp-test', '1.0.0').emit({ body: 'hello', severityText: 'INFO', attributes: { step: 1 } });
    const records = memory.getFinishedLogRecords();
    await provider.shutdown();
    return records;
  }

  async function resourceMetrics(): Promise<unknown> {
    const { MeterProvider, MetricReader } = require('@opentelemetry/sdk-metrics') as typeof import('@opentelemetry/sdk-metrics');
    class Pull extends MetricReader {
      protected onForceFlush = () => Promise.resolve();
      protected onShutdown = () => Promise.resolve();
    }
    const reader = new Pull();
    const provider = new MeterProvider({ readers: [reader] });
    provider.getMeter('otlp-test').createCounter('requests').add(3, { route: '/a' });
    const { resourceMetrics: collected } = await reader.collect();
    await provider.shutdown();
    return collected;
  }

  const config = (url: string, protocol: 'http/protobuf' | 'http/json') => ({
    protocol,
    endpoint: url,
    headers: { 'x-tenant': 'acme' },
    timeoutMs: 2000,
    compression: 'none' as const,
  });

  for (const protocol of ['http/protobuf', 'http/json'] as const) {
    const suffix = protocol === 'http/json' ? 'http' : 'proto';
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      it(`${signal} over ${protocol}: the same bytes and headers as the stock exporter`, async () => {
        const items = signal === 'traces' ? await finishedSpans() : signal === 'logs' ? await logRecords() : await resourceMetrics();
        const pkg = { traces: 'exporter-trace-otlp', metrics: 'exporter-metrics-otlp', logs: 'exporter-logs-otlp' }[signal];
        const className = { traces: 'OTLPTraceExporter', metrics: 'OTLPMetricExporter', logs: 'OTLPLogExporter' }[signal];
        const Stock = (require(`@opentelemetry/${pkg}-${suffix}`) as Record<string, new (o: object) => AnyExporter>)[className]!;
        const path = `/v1/${signal}`;
        const stock = await capture((url) => new Stock({ url: url.replace('/v1/traces', path), headers: { 'x-tenant': 'acme' }, timeoutMillis: 2000 }) as never, items as never);
        const ours = await capture((url) => createOtlpExporter<AnyExporter>(signal, config(url.replace('/v1/traces', path), protocol)) as never, items as never);
        assert.equal(ours.result.code, ExportResultCode.SUCCESS);
        assert.ok(ours.body.length > 20, `${ours.body.length} bytes`);
        assert.deepEqual(ours.body, stock.body);
        for (const header of ['content-type', 'x-tenant', 'user-agent']) assert.equal(ours.headers[header], stock.headers[header], header);
      });
    }
  }
});
