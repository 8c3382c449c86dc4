/**
 * The same app as an ES module under `--import ./register.mjs`: the preload registers
 * the loader hook itself, so statically imported express and pg are patched too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EXPRESS_SCOPE } from '../../src/instrumentations/express-routes';
import { sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

describe('traces from an ESM express app', () => {
  let sink: OtlpSink;
  let app: RunningApp;

  before(async () => {
    sink = await startOtlpSink();
    app = await startApp({ fixture: 'express-app.mjs', preload: 'import', env: sinkEnv(sink) });
  });

  after(async () => {
    app?.kill();
    await sink?.close();
  });

  it('gets the server span with http.route and one express handler span', async () => {
    assert.equal((await app.get('/api/users/5')).status, 200);
    const server = await sink.waitFor(() => sink.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/users/:id'));
    const handlers = await sink.waitFor(() => {
      const found = sink.spans.filter((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'request_handler');
      return found.length > 0 && found;
    });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      sink.spans.filter((s) => s.traceId === server.traceId && s.attributes['express.type'] === 'request_handler').length,
      1,
    );
    assert.equal(handlers[0]!.scope.name, EXPRESS_SCOPE, 'one span per route, from our lean express instrumentation');
  });

  it('gets the pg query span from a statically imported pg', async () => {
    assert.deepEqual(await (await app.get('/api/db')).json(), { n: 42 });
    const server = await sink.waitFor(() => sink.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/db'));
    const query = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === server.traceId && s.scope.name === '@opentelemetry/instrumentation-pg' && /SELECT/.test(s.name)),
    );
    assert.equal(query.kind, 3);
  });

  it('gets the outgoing fetch span', async () => {
    const res = await app.get(`/api/proxy?to=${encodeURIComponent(app.url)}`);
    assert.equal(res.status, 200);
    const server = await sink.waitFor(() => sink.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/proxy'));
    await sink.waitFor(() => sink.spans.find((s) => s.traceId === server.traceId && s.scope.name === '@opentelemetry/instrumentation-undici'));
  });

  it('says in its start line that the ESM hook is on, and which instrumentations loaded', () => {
    const started = app.logLines().find((l) => l.message === '@innatural/otel started');
    assert.ok(started, app.stderr());
    assert.equal(started.esm, true);
    assert.ok((started.instrumentations as string[]).includes('express'));
  });
});
