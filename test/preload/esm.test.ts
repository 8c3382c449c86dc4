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

  it('starts without a warning of Node’s: no DEP0205 for module.register() on Node 26, none of any kind elsewhere', async () => {
    // The start line is written after the hook is registered: any warning of the registration is out by then.
    await sink.waitFor(() => app.logLines().some((l) => l.message === '@innatural/otel started'));
    assert.doesNotMatch(app.stderr(), /Warning|DEP0\d+/, app.stderr());
  });

  it('with `--require` and an ES module entry, registers the same hook, also without a warning', async () => {
    const required = await startApp({ fixture: 'express-app.mjs', preload: 'require', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'esm-required' }) });
    try {
      assert.equal((await required.get('/api/users/6')).status, 200);
      const server = await sink.waitFor(() =>
        sink.spans.find((s) => s.kind === 2 && s.resource['service.name'] === 'esm-required' && s.attributes['http.route'] === '/api/users/:id'),
      );
      await sink.waitFor(() => sink.spans.find((s) => s.traceId === server.traceId && s.scope.name === EXPRESS_SCOPE));
      assert.equal(required.logLines().find((l) => l.message === '@innatural/otel started')?.esm, true);
      assert.doesNotMatch(required.stderr(), /Warning|DEP0\d+/, required.stderr());
    } finally {
      required.kill();
    }
  });

  it('says in its start line that the ESM hook is on, and which instrumentations loaded', () => {
    const started = app.logLines().find((l) => l.message === '@innatural/otel started');
    assert.ok(started, app.stderr());
    assert.equal(started.esm, true);
    assert.ok((started.instrumentations as string[]).includes('express'));
  });
});
