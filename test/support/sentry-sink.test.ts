/**
 * Proves the Sentry sink decodes what the real @sentry/node client and an
 * OTLP exporter pointed at Sentry send, so the integration tests built on it
 * can trust what it reports.
 */
import { describe, it, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import * as Sentry from '@sentry/node';
import { SpanKind } from '@opentelemetry/api';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as HttpTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { TracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace';
import { SENTRY_PROJECT_ID, SENTRY_PUBLIC_KEY, startSentrySink, type SentryEvent, type SentrySink } from './sentry-sink';

// The exporters type `compression` as an enum from a package this one does not depend on directly.
type Compression = NonNullable<NonNullable<ConstructorParameters<typeof ProtoTraceExporter>[0]>['compression']>;
const GZIP = 'gzip' as Compression;

const EVENT_ID = '0123456789abcdef0123456789abcdef';

async function withSink(fn: (sink: SentrySink) => Promise<void>): Promise<void> {
  const sink = await startSentrySink();
  try {
    await fn(sink);
  } finally {
    await sink.close();
  }
}

/** A client set up the way our SDK does it: no global init(), which warns under --require. */
function startClient(dsn: string): Sentry.NodeClient {
  const client = new Sentry.NodeClient({
    dsn,
    integrations: [],
    transport: Sentry.makeNodeTransport,
    stackParser: Sentry.defaultStackParser,
  });
  // Breadcrumbs live on the process-wide scopes; start each test without the last one's.
  Sentry.getCurrentScope().clearBreadcrumbs();
  Sentry.getIsolationScope().clearBreadcrumbs();
  Sentry.setCurrentClient(client);
  client.init();
  return client;
}

interface Answer {
  status: number;
  body: string;
}

function post(url: string, body: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent: false, headers: { 'Content-Length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const envelopeUrl = (sink: SentrySink): string =>
  `${sink.url}/api/${SENTRY_PROJECT_ID}/envelope/?sentry_version=7&sentry_key=${SENTRY_PUBLIC_KEY}`;

/** An envelope mixing the three ways an item can be framed: with length, without, and binary with newlines inside. */
function sampleEnvelope(canary: string): { body: Buffer; attachment: Buffer } {
  const event = Buffer.from(JSON.stringify({ event_id: EVENT_ID, level: 'error', message: `hand made ${canary}` }));
  const attachment = Buffer.concat([Buffer.from('line one\nline two\n'), Buffer.from([0x00, 0xff, 0x0a, 0x7b])]);
  const session = JSON.stringify({ sid: 'abc', status: 'ok', errors: 0 });
  const body = Buffer.concat([
    Buffer.from(`${JSON.stringify({ event_id: EVENT_ID, sent_at: new Date().toISOString() })}\n`),
    Buffer.from(`${JSON.stringify({ type: 'event', length: event.length })}\n`),
    event,
    Buffer.from('\n'),
    Buffer.from(`${JSON.stringify({ type: 'attachment', length: attachment.length, filename: 'blob.bin' })}\n`),
    attachment,
    Buffer.from('\n'),
    Buffer.from(`${JSON.stringify({ type: 'session' })}\n${session}\n`),
  ]);
  return { body, attachment };
}

async function exportSpan(exporter: SpanExporter, name: string): Promise<void> {
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const span = provider.getTracer('sentry-sink-test').startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.route': '/checkout' } });
  span.end();
  await provider.forceFlush();
  await provider.shutdown();
}

const messageOf = (e: SentryEvent): string | undefined => (typeof e.message === 'string' ? e.message : e.message?.formatted ?? e.message?.message);

describe('Sentry sink', () => {
  afterEach(() => {
    Sentry.getCurrentScope().setClient(undefined);
  });

  it('gives a DSN with the exported public key and project id', async () => {
    await withSink(async (sink) => {
      assert.equal(sink.dsn, `http://${SENTRY_PUBLIC_KEY}@127.0.0.1:${sink.port}/${SENTRY_PROJECT_ID}`);
      assert.equal(sink.url, `http://127.0.0.1:${sink.port}`);
    });
  });

  it('decodes exceptions, messages and breadcrumbs from the real @sentry/node client', async () => {
    await withSink(async (sink) => {
      const client = startClient(sink.dsn);
      try {
        const exceptionId = Sentry.captureException(new Error('boom'));
        Sentry.addBreadcrumb({ category: 'checkout', message: 'cart loaded', level: 'info', data: { items: 3 } });
        const messageId = Sentry.captureMessage('hello', 'warning');
        assert.equal(await Sentry.flush(2000), true);

        const [exception, message] = await sink.waitFor(() => {
          const e = sink.events.find((ev) => ev.event_id === exceptionId);
          const m = sink.events.find((ev) => ev.event_id === messageId);
          return e && m ? ([e, m] as const) : undefined;
        });

        const value = exception.exception?.values?.[0];
        assert.equal(value?.type, 'Error');
        assert.equal(value?.value, 'boom');
        assert.ok((value?.stacktrace?.frames?.length ?? 0) > 0, 'the exception has a parsed stack trace');
        assert.equal(exception.level, 'error');
        assert.ok(!exception.breadcrumbs?.some((b) => b.category === 'checkout'), 'the breadcrumb came after the exception');

        assert.equal(messageOf(message), 'hello');
        assert.equal(message.level, 'warning');
        const crumb = message.breadcrumbs?.find((b) => b.category === 'checkout');
        assert.equal(crumb?.message, 'cart loaded');
        assert.deepEqual(crumb?.data, { items: 3 });

        // Envelope headers and item records line up with the events.
        const header = sink.envelopes.find((h) => h.event_id === exceptionId);
        assert.equal((header?.sdk as { name?: string } | undefined)?.name, 'sentry.javascript.node');
        assert.equal(sink.items.filter((i) => i.type === 'event').length, sink.events.length);
        assert.equal(sink.itemsOfType('event').length, sink.events.length);
        assert.match(sink.allBytes(), /"boom"/);

        // The transport authenticates with the DSN's public key.
        const envelopeRequest = sink.requests.find((r) => r.endpoint === 'envelope');
        assert.match(envelopeRequest?.url ?? '', new RegExp(`sentry_key=${SENTRY_PUBLIC_KEY}`));
        assert.equal(envelopeRequest?.status, 200);
      } finally {
        await client.close(2000);
      }
    });
  });

  it('decodes a big (gzipped by the transport) event and keeps its canary searchable in raw', async () => {
    await withSink(async (sink) => {
      const client = startClient(sink.dsn);
      try {
        const canary = `canary-${Math.random().toString(36).slice(2)}`;
        // Over the transport's 32 KiB threshold, so it goes out gzipped.
        Sentry.captureMessage(canary, { extra: { padding: 'x'.repeat(40_000) } });
        await Sentry.flush(2000);
        await sink.waitFor(() => sink.events.find((e) => messageOf(e) === canary));
        const request = sink.requests.find((r) => r.endpoint === 'envelope');
        assert.equal(request?.headers['content-encoding'], 'gzip');
        assert.ok(sink.allBytes().includes(canary));
      } finally {
        await client.close(2000);
      }
    });
  });

  it('receives a span from the OTLP/proto exporter configured with getOtlpTracesEndpoint', async () => {
    await withSink(async (sink) => {
      const endpoint = Sentry.getOtlpTracesEndpoint(sink.dsn);
      assert.ok(endpoint);
      assert.equal(endpoint.url, `${sink.url}/api/${SENTRY_PROJECT_ID}/integration/otlp/v1/traces/`);

      await exportSpan(new ProtoTraceExporter({ url: endpoint.url, headers: endpoint.headers }), 'POST /checkout');
      const span = await sink.waitFor(() => sink.spans.find((s) => s.name === 'POST /checkout'));
      assert.equal(span.kind, 2);
      assert.equal(span.encoding, 'protobuf');
      assert.equal(span.attributes['http.route'], '/checkout');
      assert.match(String(sink.otlpHeaders[0]?.['x-sentry-auth']), new RegExp(`sentry_key=${SENTRY_PUBLIC_KEY}(,|$)`));
      assert.ok(sink.allBytes().includes('POST /checkout'));
      assert.deepEqual(sink.events, []);
    });
  });

  it('receives gzipped OTLP/proto and OTLP/JSON spans', async () => {
    await withSink(async (sink) => {
      const endpoint = Sentry.getOtlpTracesEndpoint(sink.dsn)!;
      await exportSpan(new ProtoTraceExporter({ ...endpoint, compression: GZIP }), 'gzipped proto');
      await exportSpan(new HttpTraceExporter({ ...endpoint }), 'plain json');
      await sink.waitFor(() => sink.spans.length === 2);
      assert.deepEqual(
        sink.spans.map((s) => [s.name, s.encoding]),
        [
          ['gzipped proto', 'protobuf'],
          ['plain json', 'json'],
        ],
      );
      assert.equal(sink.otlpHeaders[0]?.['content-encoding'], 'gzip');
      // raw holds bodies after decompression.
      assert.ok(sink.allBytes().includes('gzipped proto'));
    });
  });

  it('parses a hand-made gzipped envelope with length-framed, newline-framed and binary items', async () => {
    await withSink(async (sink) => {
      const { body, attachment } = sampleEnvelope('gz-canary');
      const answer = await post(envelopeUrl(sink), gzipSync(body), { 'Content-Encoding': 'gzip', 'Content-Type': 'application/x-sentry-envelope' });
      assert.deepEqual(answer, { status: 200, body: JSON.stringify({ id: EVENT_ID }) });

      assert.deepEqual(
        sink.items.map((i) => i.type),
        ['event', 'attachment', 'session'],
      );
      assert.deepEqual(sink.events, [{ event_id: EVENT_ID, level: 'error', message: 'hand made gz-canary' }]);
      const blob = sink.items[1]!;
      assert.ok(Buffer.isBuffer(blob.payload));
      assert.deepEqual(blob.payload, attachment);
      assert.equal(blob.header.filename, 'blob.bin');
      assert.deepEqual(sink.items[2]!.payload, { sid: 'abc', status: 'ok', errors: 0 });
      assert.equal(sink.envelopes[0]?.event_id, EVENT_ID);
      assert.deepEqual(sink.raw[0], body);
      assert.ok(sink.allBytes().includes('gz-canary'));
    });
  });

  it('undoes deflate and br too, and answers a random id when the envelope names no event', async () => {
    await withSink(async (sink) => {
      const { body } = sampleEnvelope('other-codings');
      assert.equal((await post(envelopeUrl(sink), deflateSync(body), { 'Content-Encoding': 'deflate' })).status, 200);
      assert.equal((await post(envelopeUrl(sink), brotliCompressSync(body), { 'Content-Encoding': 'br' })).status, 200);
      assert.equal(sink.events.length, 2);

      const sessionOnly = Buffer.from(`{}\n{"type":"session"}\n{"sid":"s1","status":"exited"}`);
      const answer = await post(envelopeUrl(sink), sessionOnly);
      assert.equal(answer.status, 200);
      assert.match(JSON.parse(answer.body).id, /^[0-9a-f]{32}$/);
      assert.deepEqual(sink.items.at(-1), { type: 'session', header: { type: 'session' }, payload: { sid: 's1', status: 'exited' } });
    });
  });

  it('accepts the legacy store endpoint with a JSON event body', async () => {
    await withSink(async (sink) => {
      const event = { event_id: EVENT_ID, message: 'stored', level: 'info' };
      const answer = await post(`${sink.url}/api/${SENTRY_PROJECT_ID}/store/`, Buffer.from(JSON.stringify(event)), {
        'Content-Type': 'application/json',
        'X-Sentry-Auth': `Sentry sentry_version=7, sentry_key=${SENTRY_PUBLIC_KEY}`,
      });
      assert.deepEqual(answer, { status: 200, body: JSON.stringify({ id: EVENT_ID }) });
      assert.deepEqual(sink.events, [event]);
      assert.deepEqual(sink.envelopes, [{ event_id: EVENT_ID }]);
    });
  });

  it("answers 503 in 'down' mode and records nothing as an event, but keeps the raw bytes", async () => {
    await withSink(async (sink) => {
      sink.setMode('down');
      const { body } = sampleEnvelope('down-canary');
      const answer = await post(envelopeUrl(sink), gzipSync(body), { 'Content-Encoding': 'gzip' });
      assert.equal(answer.status, 503);

      const client = startClient(sink.dsn);
      try {
        Sentry.captureException(new Error('lost-while-down'));
        await Sentry.flush(2000);
        const endpoint = Sentry.getOtlpTracesEndpoint(sink.dsn)!;
        // 503 is retryable; a short timeout keeps the exporter from retrying for 10 s.
        const failed = await exportSpan(new ProtoTraceExporter({ ...endpoint, timeoutMillis: 500 }), 'span-while-down').then(
          () => undefined,
          (err: unknown) => err,
        );
        assert.ok(failed, 'the exporter reports the failed export');
        await sink.waitFor(() => sink.raw.length >= 3);
      } finally {
        await client.close(2000);
      }

      assert.deepEqual(sink.events, []);
      assert.deepEqual(sink.items, []);
      assert.deepEqual(sink.spans, []);
      assert.ok(sink.requests.every((r) => r.status === 503));
      const all = sink.allBytes();
      for (const canary of ['down-canary', 'lost-while-down', 'span-while-down']) assert.ok(all.includes(canary), canary);

      // Back up: the same request goes through.
      sink.setMode('ok');
      assert.equal((await post(envelopeUrl(sink), body)).status, 200);
      assert.equal(sink.events.length, 1);
    });
  });

  it("holds answers back in 'slow' mode, and close() does not wait for them", async () => {
    const sink = await startSentrySink();
    let closed = false;
    try {
      sink.setMode('slow');
      const { body } = sampleEnvelope('slow-canary');
      const pending = post(envelopeUrl(sink), body).then(
        (a) => a,
        (err: Error) => err,
      );
      await sink.waitFor(() => sink.events.length === 1);
      const early = await Promise.race([pending, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300))]);
      assert.equal(early, 'still waiting');
      assert.equal(sink.requests[0]?.status, 0);

      const started = Date.now();
      await sink.close();
      closed = true;
      assert.ok(Date.now() - started < 1000, 'close() returns without waiting for the slow answer');
      assert.ok((await pending) instanceof Error, 'the client sees its connection dropped');
    } finally {
      if (!closed) await sink.close();
    }
  });

  it('refuses a wrong key, an unknown project, other paths and malformed envelopes', async () => {
    await withSink(async (sink) => {
      const { body } = sampleEnvelope('refused');
      const wrongKey = await post(`${sink.url}/api/${SENTRY_PROJECT_ID}/envelope/?sentry_key=nope`, body);
      assert.equal(wrongKey.status, 401);
      const noKey = await post(`${sink.url}/api/${SENTRY_PROJECT_ID}/envelope/`, body);
      assert.equal(noKey.status, 401);
      const otherProject = await post(`${sink.url}/api/7/envelope/?sentry_key=${SENTRY_PUBLIC_KEY}`, body);
      assert.equal(otherProject.status, 404);
      assert.equal((await post(`${sink.url}/v1/traces`, body)).status, 404);
      const truncated = Buffer.from(`{}\n{"type":"event","length":500}\n{"message":"short"}`);
      const bad = await post(envelopeUrl(sink), truncated);
      assert.equal(bad.status, 400);
      assert.match(bad.body, /claims 500 bytes/);
      const notJson = await post(envelopeUrl(sink), Buffer.from('{}\n{"type":"event"}\nnot json'));
      assert.equal(notJson.status, 400);

      // An envelope whose header names the DSN authenticates by itself.
      const withDsn = Buffer.from(`${JSON.stringify({ dsn: sink.dsn })}\n{"type":"event"}\n{"message":"via dsn"}\n`);
      assert.equal((await post(`${sink.url}/api/${SENTRY_PROJECT_ID}/envelope/`, withDsn)).status, 200);

      assert.deepEqual(sink.events, [{ message: 'via dsn' }]);
      assert.equal(sink.raw.length, 7);
    });
  });

  it('rejects waitFor with a summary of what arrived', async () => {
    await withSink(async (sink) => {
      await post(envelopeUrl(sink), sampleEnvelope('summary').body);
      await assert.rejects(sink.waitFor(() => sink.events.find((e) => e.message === 'never'), 100), (err: Error) => {
        assert.match(err.message, /nothing matched within 100 ms/);
        assert.match(err.message, /hand made summary/);
        assert.match(err.message, /"attachment"/);
        return true;
      });
    });
  });
});
