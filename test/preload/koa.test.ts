/**
 * A contrib instrumentation of OpenTelemetry JS's 3.x line that the app installs itself
 * (`@opentelemetry/instrumentation-koa` 0.72, beside `koa`), under the real preload with
 * `--require` and with `--import`: the Koa spans come on the first load of `koa`, children of
 * our server span. On the 2.x line (API 1.9), this instrumentation failed to construct, and under
 * `--require` the deferred loader's first require went around its require hook: no Koa span.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HTTP_SERVER_SCOPE } from '../../src/instrumentations/http-server';
import { sinkEnv, startApp, type Preload } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

const SERVER = 2;
const KOA_SCOPE = '@opentelemetry/instrumentation-koa';

describe('koa with the app’s own instrumentation-koa of the 3.x line', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    await sink?.close();
  });

  for (const [preload, fixture] of [
    ['require', 'koa-app.js'],
    ['import', 'koa-app.mjs'],
  ] as const satisfies ReadonlyArray<readonly [Preload, string]>) {
    it(`--${preload}: middleware and router spans on the first load of koa, children of the server span, and no warning`, async () => {
      const service = `koa-${preload}`;
      const app = await startApp({ fixture, preload, env: sinkEnv(sink, { OTEL_SERVICE_NAME: service, OTEL_METRICS_EXPORTER: 'none' }) });
      try {
        const res = await app.get('/api/things/7');
        assert.deepEqual(await res.json(), { id: '7' });
        assert.equal(res.headers.get('x-koa'), 'yes');
        const server = await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === service && s.kind === SERVER));
        assert.equal(server.scope.name, HTTP_SERVER_SCOPE);
        const koa = await sink.waitFor(() => {
          const found = sink.spans.filter((s) => s.traceId === server.traceId && s.scope.name === KOA_SCOPE);
          return found.length >= 2 ? found : undefined;
        });
        assert.deepEqual(koa.map((s) => s.attributes['koa.type']).sort(), ['middleware', 'router']);
        const middleware = koa.find((s) => s.attributes['koa.type'] === 'middleware')!;
        assert.equal(middleware.parentSpanId, server.spanId, 'the middleware span is a child of our server span');
        assert.equal(koa.find((s) => s.attributes['koa.type'] === 'router')!.attributes['http.route'], '/api/things/:id');
        assert.deepEqual(
          app.logLines().filter((l) => l.level === 'error' || l.level === 'warn'),
          [],
        );
      } finally {
        app.kill();
      }
    });
  }
});
