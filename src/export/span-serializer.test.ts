import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpanKind, SpanStatusCode, TraceFlags } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { parseRequest } from '../../test/support/otlp-sink';
import { onePassTraceSerializer, type TraceSerializer } from './span-serializer';

const stock = ProtobufTraceSerializer as unknown as TraceSerializer;

/** Two resources, two scopes, every attribute type, events, links, statuses, a remote parent, a trace state. */
async function spans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const make = (service: string) =>
    new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.instance.id': 'é-1', 'host.cpus': 2, ratio: 0.5, on: true }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
    });
  const a = make('svc-a');
  const b = make('svc-b');
  const server = a.getTracer('@innatural/otel-http-server', '1.0.0');
  const parent = {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=value,other=x'),
  };
  const { trace, ROOT_CONTEXT } = await import('@opentelemetry/api');
  const root = server.startSpan(
    'GET /api/users/:id',
    {
      kind: SpanKind.SERVER,
      attributes: { s: 'text', utf8: 'naïve ☃ 😀', i: 42, neg: -7, big: 2 ** 40, f: 3.25, t: true, no: false, strs: ['a', 'b'], nums: [1, 2.5], bools: [true, false], empty: '' },
      links: [{ context: { ...parent, spanId: '00f067aa0ba902b7', isRemote: false }, attributes: { why: 'batch' } }, { context: parent }],
    },
    trace.setSpanContext(ROOT_CONTEXT, parent),
  );
  root.addEvent('checkpoint', { step: 1, label: 'x' });
  root.addEvent('bare');
  root.recordException(new TypeError('boom'));
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'it failed' });
  root.end();
  const child = a.getTracer('@innatural/otel-express').startSpan('request handler - /x', { attributes: { long: 'y'.repeat(300) } }, trace.setSpan(ROOT_CONTEXT, root));
  child.setStatus({ code: SpanStatusCode.OK });
  child.end();
  b.getTracer('other', undefined, { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' }).startSpan('internal').end();
  // Many spans: the lengths of the enclosing messages take more than one varint byte.
  for (let i = 0; i < 300; i++) a.getTracer('@innatural/otel-express').startSpan(`s${i}`, { kind: SpanKind.CLIENT, attributes: { i } }).end();
  const out = memory.getFinishedSpans();
  await Promise.all([a.shutdown(), b.shutdown()]);
  return out;
}

describe('onePassTraceSerializer', () => {
  it('writes the stock serializer’s bytes exactly', async () => {
    const ours = onePassTraceSerializer(stock);
    assert.ok(ours, 'the parts are where this release keeps them');
    const all = await spans();
    for (const batch of [all, all.slice(0, 3), all.slice(2, 3), []]) {
      assert.deepEqual(Buffer.from(ours.serializeRequest(batch)), Buffer.from(stock.serializeRequest(batch)));
    }
  });

  it('decodes, through the sink, to what the stock bytes decode to', async () => {
    const ours = onePassTraceSerializer(stock)!;
    const all = await spans();
    const decode = (bytes: Uint8Array) => parseRequest('ExportTraceServiceRequest', 'protobuf', Buffer.from(bytes));
    const got = decode(ours.serializeRequest(all));
    assert.deepEqual(got, decode(stock.serializeRequest(all)));
    const root = got.spans.find((s) => s.name === 'GET /api/users/:id')!;
    assert.equal(root.attributes['utf8'], 'naïve ☃ 😀');
    assert.deepEqual(root.attributes['strs'], ['a', 'b']);
    assert.equal(got.spans.length, all.length);
  });

  it('grows its buffer when a batch is larger per span than the one before', async () => {
    const ours = onePassTraceSerializer(stock)!;
    const all = await spans();
    const small = all.filter((s) => s.name.startsWith('s'));
    ours.serializeRequest(small);
    const large = all.filter((s) => !s.name.startsWith('s'));
    assert.deepEqual(Buffer.from(ours.serializeRequest(large)), Buffer.from(stock.serializeRequest(large)));
  });
});
