/**
 * Our server spans against the stock instrumentation-http's, with the stable conventions
 * (`OTEL_SEMCONV_STABILITY_OPT_IN=http`), both recording the same requests (raw HTTP over a
 * socket, so no client instrumentation adds anything): every attribute matches, except where we
 * follow the conventions more closely: `HTTP` as the name of an `_OTHER` method, `url.query`
 * without a `?` (older stock versions kept it), `error.type` on a 5xx (stock releases before the
 * 3.x line left it out).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { connect, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { context, propagation, trace, type Attributes } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { HTTP_SERVER_SCOPE, HttpServerSpans } from './http-server';

const REQUESTS: ReadonlyArray<readonly [what: string, raw: string]> = [
  ['GET with a query, Host with a port, a user agent', 'GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: parity/1\r\n\r\n'],
  ['POST answered 503', 'POST /boom HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\nx'],
  ['an unknown method', 'PURGE /c HTTP/1.1\r\nHost: h\r\n\r\n'],
  ['HTTP/1.0 with no Host', 'GET / HTTP/1.0\r\n\r\n'],
  [
    'X-Forwarded-*',
    'GET /f HTTP/1.1\r\nHost: internal:3000\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\nX-Forwarded-Host: shop.example\r\nX-Forwarded-Proto: https\r\n\r\n',
  ],
  ['Forwarded', 'GET /g HTTP/1.1\r\nHost: internal\r\nForwarded: for=198.51.100.2;host=api.example;proto=https\r\n\r\n'],
  ['a bare ?, an IPv6 Host', 'GET /q? HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n'],
  ['a proxy’s absolute-form target', 'GET http://abs.example/abs?z=1 HTTP/1.1\r\nHost: abs.example\r\n\r\n'],
];

/** One raw request on its own connection, closed after the answer. */
function send(port: number, raw: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(raw.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')));
    socket.resume();
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}

describe('HttpServerSpans against instrumentation-http (stable conventions), on the same requests', () => {
  const exporter = new InMemorySpanExporter();
  const manager = new AsyncLocalStorageContextManager().enable();
  let ours: HttpServerSpans;
  let stock: HttpInstrumentation;
  let server: Server;
  let port: number;
  const previousOptIn = process.env.OTEL_SEMCONV_STABILITY_OPT_IN;

  before(async () => {
    context.setGlobalContextManager(manager);
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }));
    ours = new HttpServerSpans({ ignore: () => false, attach: (ctx) => void manager.attach(ctx), durationMetric: false });
    ours.enable();
    // Read by the constructor.
    process.env.OTEL_SEMCONV_STABILITY_OPT_IN = 'http';
    const { HttpInstrumentation: Stock } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
    stock = new Stock();
    // Its patch applies on the next require of http, through require-in-the-middle.
    const http = createRequire(__filename)('node:http') as typeof import('node:http');
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = req.url?.startsWith('/boom') ? 503 : 200;
        res.end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });

  after(() => {
    server.close();
    stock.disable();
    ours.disable();
    trace.disable();
    propagation.disable();
    context.disable();
    if (previousOptIn === undefined) delete process.env.OTEL_SEMCONV_STABILITY_OPT_IN;
    else process.env.OTEL_SEMCONV_STABILITY_OPT_IN = previousOptIn;
  });

  for (const [what, raw] of REQUESTS) {
    it(what, async () => {
      exporter.reset();
      await send(port, raw);
      await new Promise((r) => setTimeout(r, 20));
      const spans = exporter.getFinishedSpans();
      const mine = spans.find((s) => s.instrumentationScope.name === HTTP_SERVER_SCOPE);
      const theirs = spans.find((s) => s.instrumentationScope.name === '@opentelemetry/instrumentation-http');
      assert.ok(mine && theirs, `both made a span: ${spans.map((s) => s.instrumentationScope.name).join(', ')}`);
      compare(mine, theirs);
    });
  }
});

function compare(mine: ReadableSpan, theirs: ReadableSpan): void {
  const expected: Attributes = { ...theirs.attributes };
  const query = expected['url.query'];
  if (typeof query === 'string' && query.startsWith('?')) expected['url.query'] = query.slice(1);
  const status = Number(expected['http.response.status_code']);
  const { 'error.type': errorType, ...rest } = mine.attributes;
  const { 'error.type': stockErrorType, ...stockRest } = expected;
  if (stockErrorType !== undefined) assert.equal(errorType, stockErrorType, 'error.type as the stock one sets it');
  assert.deepEqual(sorted(rest), sorted(stockRest));
  assert.equal(errorType, status >= 500 ? String(status) : undefined, 'error.type: the status of a 5xx, nothing below');
  assert.equal(mine.name, stockRest['http.request.method'] === '_OTHER' ? 'HTTP' : theirs.name);
  assert.equal(mine.kind, theirs.kind);
  assert.equal(mine.status.code, theirs.status.code);
}

function sorted(attributes: Attributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b)));
}
