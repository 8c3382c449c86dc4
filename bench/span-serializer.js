'use strict';
/**
 * CPU per span of the trace serializers, stock against ours (src/export/span-serializer.ts),
 * on batches of 512 spans shaped like bench/app.js's (a server span and a route span per request).
 * Interleaved, medians of process.cpuUsage over 20 rounds. A benchmark, never a test.
 *   npm run build && node bench/span-serializer.js
 */
const { SpanKind, trace, ROOT_CONTEXT } = require('@opentelemetry/api');
const { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer');
const { onePassTraceSerializer } = require('../dist/src/export/span-serializer');
const { median } = require('./run');

const memory = new InMemorySpanExporter();
const provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'bench', 'host.name': 'h', 'process.pid': 1 }), spanProcessors: [new SimpleSpanProcessor({ exporter: memory })] });
const server = provider.getTracer('@innatural/otel-http-server', '1.0.0');
const route = provider.getTracer('@innatural/otel-express', '1.0.0');
for (let i = 0; i < 256; i++) {
  const s = server.startSpan('GET', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'url.scheme': 'http', 'network.protocol.version': '1.1', 'url.path': `/api/users/${i}`, 'server.address': '127.0.0.1', 'server.port': 5711, 'client.address': '127.0.0.1', 'network.peer.address': '127.0.0.1', 'network.peer.port': 40000 + i } });
  route.startSpan('request handler - /api/users/:id', { attributes: { 'http.route': '/api/users/:id', 'express.name': '/api/users/:id', 'express.type': 'request_handler' } }, trace.setSpan(ROOT_CONTEXT, s)).end();
  s.setAttribute('http.response.status_code', 200);
  s.setAttribute('http.route', '/api/users/:id');
  s.updateName('GET /api/users/:id');
  s.end();
}
const spans = memory.getFinishedSpans();
const ours = onePassTraceSerializer(ProtobufTraceSerializer);
const cpu = (fn, n) => {
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) fn(spans);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / (n * spans.length);
};
const results = { stock: [], ours: [] };
for (let i = 0; i < 5; i++) cpu(ProtobufTraceSerializer.serializeRequest, 20), cpu(ours.serializeRequest, 20);
for (let round = 0; round < 20; round++) {
  results.stock.push(cpu(ProtobufTraceSerializer.serializeRequest, 50));
  results.ours.push(cpu(ours.serializeRequest, 50));
}
process.stdout.write(`node ${process.version}, ${spans.length} spans a batch, CPU µs per span (median of 20): stock ${median(results.stock).toFixed(3)}, one pass ${median(results.ours).toFixed(3)}\n`);
