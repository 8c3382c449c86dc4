import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, IncomingMessage, ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Socket } from 'node:net';
import { pipeline, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { context, createContextKey, propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { HttpServerSpans } from './http-server';

describe('HttpServerSpans', () => {
  const exporter = new InMemorySpanExporter();
  const manager = new AsyncLocalStorageContextManager().enable();
  let instrumentation: HttpServerSpans;
  let server: Server;
  let url: string;
  const seenInHandler: Array<string | undefined> = [];

  /** Where each callback of a request ran: the active span id at that moment. */
  const seen = new Map<string, string | undefined>();
  const mark = (what: string) => seen.set(what, trace.getActiveSpan()?.spanContext().spanId);
  const callbacks = (req: IncomingMessage, res: ServerResponse) => {
    res.on('finish', () => mark('res finish'));
    res.on('close', () => mark('res close'));
    req.on('close', () => mark('req close'));
    const writable = new Writable({
      write(_chunk, _enc, cb) {
        mark('piped write');
        setImmediate(cb);
      },
    });
    pipeline(req, writable, () => {
      mark('pipeline callback');
      setTimeout(() => {
        mark('timer');
        void Promise.resolve().then(() => {
          mark('promise');
          res.end('ok');
        });
      }, 2);
    });
  };
  const hang = (req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    res.on('close', () => mark('res close'));
    req.on('close', () => mark('req close'));
    mark('handler');
  };

  before(async () => {
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    instrumentation = new HttpServerSpans({
      ignore: (req) => req.url === '/ignored',
      attach: (ctx) => void manager.attach(ctx),
      durationMetric: false,
    });
    instrumentation.enable();
    server = createServer((req, res) => {
      if (req.url === '/callbacks') return callbacks(req, res);
      if (req.url === '/hang') return hang(req, res);
      // The body arrives in later callbacks of the connection: the span must still be current there.
      req.resume();
      req.on('end', () => {
        seenInHandler.push(trace.getActiveSpan()?.spanContext().spanId);
        res.statusCode = req.url?.startsWith('/boom') ? 503 : req.url === '/missing' ? 404 : 200;
        res.end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    instrumentation.disable();
    server.close();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('makes one SERVER span per request, current in the body’s callbacks, named by method, with the status at the end', async () => {
    exporter.reset();
    seenInHandler.length = 0;
    const res = await fetch(`${url}/boom?x=1`, { method: 'POST', body: 'x'.repeat(200_000) });
    await res.text();
    await new Promise((r) => setTimeout(r, 20));
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    assert.equal(span.kind, SpanKind.SERVER);
    assert.equal(span.name, 'POST');
    assert.equal(span.attributes['http.response.status_code'], 503);
    assert.equal(span.attributes['url.query'], 'x=1');
    assert.equal(span.status.code, 2, '5xx is an error');
    assert.equal(span.attributes['error.type'], '503', 'the stable conventions: a 5xx server span carries its status as error.type');
    assert.deepEqual(seenInHandler, [span.spanContext().spanId]);
  });

  it('sets no error.type below 500', async () => {
    exporter.reset();
    await (await fetch(`${url}/missing`)).text();
    await new Promise((r) => setTimeout(r, 20));
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.attributes['http.response.status_code'], 404);
    assert.equal(span?.attributes['error.type'], undefined);
    assert.equal(span?.status.code, 0);
  });

  it('runs every later callback of the request in its span: a piped body, pipeline’s callback, a timer and a promise there, finish and close', async () => {
    exporter.reset();
    seen.clear();
    await (await fetch(`${url}/callbacks`, { method: 'POST', body: 'x'.repeat(300_000) })).text();
    await new Promise((r) => setTimeout(r, 20));
    const [span] = exporter.getFinishedSpans();
    assert.ok(span);
    const id = span.spanContext().spanId;
    assert.deepEqual(Object.fromEntries(seen), {
      'piped write': id,
      'pipeline callback': id,
      timer: id,
      promise: id,
      'res finish': id,
      'req close': id,
      'res close': id,
    });
  });

  it('a client that goes away: the close events still run in the request’s span, which ends', async () => {
    exporter.reset();
    seen.clear();
    const aborted = new AbortController();
    const request = fetch(`${url}/hang`, { method: 'POST', body: 'x', signal: aborted.signal }).catch(() => undefined);
    const deadline = Date.now() + 2000;
    while (!seen.has('handler') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    aborted.abort();
    await request;
    while (!seen.has('res close') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const [span] = exporter.getFinishedSpans();
    assert.ok(span, 'the span ended at close');
    const id = span.spanContext().spanId;
    assert.equal(seen.get('handler'), id);
    assert.equal(seen.get('res close'), id);
    assert.equal(seen.get('req close'), id);
  });

  it('continues the trace of a traceparent header', async () => {
    exporter.reset();
    await (await fetch(`${url}/x`, { headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } })).text();
    await new Promise((r) => setTimeout(r, 20));
    const [span] = exporter.getFinishedSpans();
    assert.equal(span?.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(span?.parentSpanContext?.spanId, 'b7ad6b7169203331');
  });

  it('makes no span for an ignored request, and suppresses tracing below it', async () => {
    exporter.reset();
    seenInHandler.length = 0;
    await (await fetch(`${url}/ignored`)).text();
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.deepEqual(seenInHandler, [undefined]);
  });

  it('emitted from inside another context (an in-process harness), scopes the request to the call and leaks nothing', () => {
    const key = createContextKey('harness');
    const outer = ROOT_CONTEXT.setValue(key, 'outer');
    let inHandler: unknown;
    const local = createServer((_req, res) => {
      inHandler = trace.getActiveSpan();
      res.end();
    });
    const socket = new Socket();
    const req = new IncomingMessage(socket);
    req.method = 'GET';
    req.url = '/harness';
    const res = new ServerResponse(req);
    context.with(outer, () => {
      local.emit('request', req, res);
      assert.equal(context.active().getValue(key), 'outer', 'the caller keeps its own context');
      assert.equal(trace.getActiveSpan(), undefined);
    });
    assert.ok(inHandler, 'the handler ran in the request span');
    socket.destroy();
  });
});
