/**
 * The request's context in the callbacks of its body, under the real preload on whichever Node
 * runs the tests (AsyncContextFrame from Node 24, async_hooks before): an outgoing fetch made in
 * `data`, in `end`, in a timer started in `end`, and from a piped body, is a child of the
 * request's server span, every time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink, type SinkSpan } from '../support/otlp-sink';

const SERVER = 2;
const UNDICI = '@opentelemetry/instrumentation-undici';
/** A body of many chunks: its later events come from later reads of the connection. */
const BODY = 'x'.repeat(512 * 1024);
/** The issue saw 10 of 12 such calls leave the trace: one call proves little. */
const ROUNDS = 4;

describe('the request context in the body’s callbacks', () => {
  let sink: OtlpSink;
  let app: RunningApp;
  before(async () => {
    sink = await startOtlpSink();
    app = await startApp({ fixture: 'body-context-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'body-context' }) });
  });
  after(async () => {
    app?.kill();
    await sink?.close();
  });

  /** Server spans of `path` whose trace holds `calls` fetch spans, each with its /pong server span below. */
  async function checkRoute(path: string, calls: readonly string[]): Promise<void> {
    const earlier = new Set(sink.spans.map((s) => s.spanId));
    for (let i = 0; i < ROUNDS; i++) {
      const res = await fetch(`${app.url}${path}`, { method: 'POST', body: BODY });
      assert.equal(res.status, 200, await res.text());
    }
    const servers = await sink.waitFor(() => {
      const found = sink.spans.filter((s) => !earlier.has(s.spanId) && s.kind === SERVER && s.attributes['url.path'] === path);
      return found.length === ROUNDS && found;
    });
    for (const server of servers) {
      const fetches = await sink.waitFor(() => {
        const found = sink.spans.filter((s) => s.scope.name === UNDICI && s.traceId === server.traceId);
        return found.length === calls.length && found;
      });
      for (const span of fetches) assert.equal(span.parentSpanId, server.spanId, `${path}: the fetch is a child of the server span`);
      const pongs: SinkSpan[] = await sink.waitFor(() => {
        const found = sink.spans.filter((s) => s.kind === SERVER && s.attributes['url.path'] === '/pong' && s.traceId === server.traceId);
        return found.length === calls.length && found;
      });
      assert.deepEqual(pongs.map((p) => p.attributes['url.query']).sort(), calls.map((c) => `from=${c}`).sort());
    }
    // No call of this route may have started a trace of its own.
    const roots = sink.spans.filter((s) => !earlier.has(s.spanId) && s.scope.name === UNDICI && !servers.some((v) => v.traceId === s.traceId));
    assert.deepEqual(roots.map((r) => r.traceId), []);
  }

  it('a fetch in req.on(\'end\') is a child of the server span', () => checkRoute('/end', ['end']));
  it('a fetch in the first req.on(\'data\') is a child of the server span', () => checkRoute('/data', ['data']));
  it('a fetch in a timer started in req.on(\'end\') is a child of the server span', () => checkRoute('/timer', ['timer']));
  it('a piped request body keeps the context: calls from the writable and from pipeline’s callback', () =>
    checkRoute('/pipe', ['pipe-write', 'pipe-done']));
});
