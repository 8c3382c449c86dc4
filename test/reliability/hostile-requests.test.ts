/**
 * Hostile requests: huge headers, very long URLs, invalid UTF-8, malformed trace headers.
 * No crash, no exception in the app, and a malformed parent starts a fresh trace.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApp, sinkEnv, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { startSentrySink, type SentrySink } from '../support/sentry-sink';

/** Raw HTTP/1.1, so bytes no client library would send can be sent. */
function raw(port: number, request: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let out = '';
    socket.setEncoding('latin1').on('data', (d: string) => (out += d));
    socket.on('close', () => resolve(out));
    socket.on('error', () => resolve(out));
  });
}

describe('hostile requests', () => {
  let otlp: OtlpSink;
  let sentry: SentrySink;
  let app: RunningApp;
  before(async () => {
    otlp = await startOtlpSink();
    sentry = await startSentrySink();
    app = await startApp({
      fixture: 'sentry-app.js',
      env: sinkEnv(otlp, { SENTRY_DSN: sentry.dsn, OTEL_METRICS_EXPORTER: 'prometheus', OTEL_SERVICE_NAME: 'hostile' }),
    });
  });
  after(async () => {
    app?.kill();
    await otlp?.close();
    await sentry?.close();
  });

  const serverSpanFor = (path: string) =>
    otlp.waitFor(() => otlp.spans.find((s) => s.kind === 2 && String(s.attributes['url.path'] ?? '').startsWith(path)));

  it('malformed traceparent, baggage and sentry-trace: served, and a fresh trace starts', async () => {
    const bad: Array<Record<string, string>> = [
      { traceparent: '00-zzzz-yyyy-01', baggage: '%%%;;;=,=', 'sentry-trace': 'not-a-trace' },
      { traceparent: '00-00000000000000000000000000000000-0000000000000000-01', baggage: 'a'.repeat(9000) },
      { traceparent: `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, 'sentry-trace': `${'c'.repeat(32)}-${'d'.repeat(16)}-7` },
    ];
    for (const [i, headers] of bad.entries()) {
      const res = await app.get(`/api/ok?case=${i}`, { headers });
      assert.equal(res.status, 200, JSON.stringify(headers).slice(0, 80));
    }
    await otlp.waitFor(() => otlp.spans.filter((s) => s.kind === 2 && s.attributes['url.path'] === '/api/ok').length >= 3);
    for (const span of otlp.spans.filter((s) => s.kind === 2 && s.attributes['url.path'] === '/api/ok')) {
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(span.traceId, '0'.repeat(32));
      assert.notEqual(span.traceId, 'a'.repeat(32), 'an unknown traceparent version is not trusted');
    }
  });

  it('a very long URL, huge headers and invalid UTF-8 do not break the app or the SDK', async () => {
    const long = await app.get(`/api/ok?q=${'x'.repeat(12000)}`);
    assert.equal(long.status, 200);
    const bigHeader = await raw(app.port, `GET /api/ok HTTP/1.1\r\nHost: x\r\nX-Big: ${'y'.repeat(20000)}\r\nConnection: close\r\n\r\n`);
    assert.match(bigHeader, /^HTTP\/1\.1 431/, 'Node refuses headers over its limit, as without us');
    const invalid = Buffer.concat([
      Buffer.from('GET /api/ok?name='),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from(' HTTP/1.1\r\nHost: x\r\nX-Odd: '),
      Buffer.from([0xe2, 0x82]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]);
    const odd = await raw(app.port, invalid);
    assert.match(odd, /^HTTP\/1\.1 (200|400)/);
    const after = await app.get('/api/ok');
    assert.equal(after.status, 200, 'still serving');
    await serverSpanFor('/api/ok');
    const errors = app.logLines().filter((l) => l.level === 'error');
    assert.deepEqual(errors, []);
    assert.doesNotMatch(app.stderr(), /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
  });

  it('a handler error with hostile request data is still reported, redacted and bounded', async () => {
    const res = await app.get(`/api/boom?token=${'t'.repeat(5000)}`, { headers: { cookie: 'a=b', 'x-long': 'z'.repeat(8000) } });
    assert.equal(res.status, 500);
    const event = await sentry.waitFor(() => sentry.events.find((e) => JSON.stringify(e).includes('handler exploded')));
    assert.doesNotMatch(JSON.stringify(event), /t{100}/, 'the token value is redacted');
  });
});
