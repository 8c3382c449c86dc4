/**
 * Starting: the one info line and what it may not contain, OTEL_SDK_DISABLED, loading
 * twice, worker threads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { REPO, sinkEnv, startApp } from '../support/app';
import { REPO_VERSION } from '../support/repo-version';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

const startLines = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.message === '@innatural/otel started');

describe('start', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    await sink?.close();
  });

  it('logs one info line with the effective configuration and no secret from env', async () => {
    const canaries = {
      dsnKey: 'dsnkeycanary0123456789abcdef',
      headerToken: 'headertokencanary42',
      urlPassword: 'urlpasswordcanary7',
      signalHeader: 'signalheadercanary9',
    };
    const endpoint = new URL(sink.url);
    endpoint.username = 'collector';
    endpoint.password = canaries.urlPassword;
    const app = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, {
        SENTRY_DSN: `https://${canaries.dsnKey}@o1.ingest.sentry.io/1`,
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint.toString(),
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${canaries.headerToken}`,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: `x-api-key=${canaries.signalHeader}`,
        OTEL_SERVICE_NAME: 'start-line',
        NODE_ENV: 'staging',
      }),
    });
    try {
      await app.get('/api/users/1');
      const lines = startLines(app.logLines());
      assert.equal(lines.length, 1, app.stderr());
      const line = lines[0]!;
      assert.equal(line.level, 'info');
      assert.deepEqual(line.service, { name: 'start-line', version: REPO_VERSION, environment: 'staging' });
      const traces = line.traces as { otlp: { endpoint: string; headers: Record<string, string> } };
      assert.match(traces.otlp.endpoint, /^http:\/\/REDACTED:REDACTED@127\.0\.0\.1:\d+\/v1\/traces$/);
      assert.deepEqual(traces.otlp.headers, { authorization: '[REDACTED]', 'x-api-key': '[REDACTED]' });
      assert.ok((line.instrumentations as string[]).includes('http'));
      assert.equal(typeof line.startupMs, 'number');
      const output = app.stdout() + app.stderr();
      for (const [name, canary] of Object.entries(canaries)) assert.ok(!output.includes(canary), `${name} leaked`);
    } finally {
      app.kill();
    }
  });

  it('OTEL_SDK_DISABLED=true loads no OpenTelemetry module, exports nothing, prints nothing', async () => {
    const app = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, { OTEL_SDK_DISABLED: 'true', OTEL_SERVICE_NAME: 'disabled' }),
    });
    try {
      assert.deepEqual(await (await app.get('/api/users/4')).json(), { id: '4' });
      assert.deepEqual(await (await app.get('/api/loaded')).json(), []);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sink.spans.filter((s) => s.resource['service.name'] === 'disabled').length, 0);
      assert.equal(app.stderr(), '');
    } finally {
      app.kill();
    }
  });

  it('loads the SDK from one bundle and only the packages it shares with instrumentations: no metric SDK, no OTLP transformer index', async () => {
    const app = await startApp({ fixture: 'express-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'lean-start' }) });
    try {
      assert.equal((await app.get('/api/users/4')).status, 200);
      await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === 'lean-start'));
      const loaded = (await (await app.get('/api/loaded')).json()) as string[];
      const of = (pkg: string) => loaded.filter((f) => f.includes(`/node_modules/${pkg}/`));
      for (const pkg of ['@opentelemetry/sdk-metrics', '@opentelemetry/otlp-transformer', '@opentelemetry/exporter-trace-otlp-proto', '@opentelemetry/sdk-trace', '@opentelemetry/resources']) {
        assert.deepEqual(of(pkg), [], `${pkg} is not required from node_modules`);
      }
      // Start-up is mostly module loading: the full preload required ~370 files before the bundle, ~120 of OpenTelemetry after.
      assert.ok(loaded.length < 150, `${loaded.length} OpenTelemetry files loaded`);
    } finally {
      app.kill();
    }
  });

  it('a second load of the preload (--require twice, or --require plus --import) starts once', async () => {
    for (const nodeArgs of [
      ['--require', join(REPO, 'register.js')],
      ['--import', pathToFileURL(join(REPO, 'register.mjs')).href],
    ]) {
      const app = await startApp({
        fixture: 'express-app.js',
        nodeArgs,
        env: sinkEnv(sink, { OTEL_SERVICE_NAME: `twice-${nodeArgs[0]}`, OTEL_LOG_LEVEL: 'debug' }),
      });
      try {
        await app.get('/api/users/1');
        const service = `twice-${nodeArgs[0]}`;
        const server = await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === service && s.kind === 2));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(startLines(app.logLines()).length, 1);
        // Node caches a --require'd file by path, so only the --import entry actually runs a second time.
        const second = app.logLines().filter((l) => /already started/.test(String(l.message))).length;
        assert.equal(second, nodeArgs[0] === '--import' ? 1 : 0);
        const serverSpans = sink.spans.filter((s) => s.traceId === server.traceId && s.kind === 2);
        assert.equal(serverSpans.length, 1, 'http patched once');
      } finally {
        app.kill();
      }
    }
  });

  it('a failure inside start is one error line, and the app runs uninstrumented', async () => {
    const app = await startApp({
      fixture: 'express-app.js',
      preload: 'none',
      nodeArgs: ['--require', join(REPO, 'test', 'fixtures', 'poison-otel-api.js'), '--require', join(REPO, 'register.js')],
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'poisoned' }),
    });
    try {
      assert.deepEqual(await (await app.get('/api/users/8')).json(), { id: '8' });
      const errors = app.logLines().filter((l) => l.level === 'error');
      assert.equal(errors.length, 1, app.stderr());
      assert.match(String(errors[0]!.message), /failed to start: poisoned OpenTelemetry global; the app runs uninstrumented/);
      assert.equal(startLines(app.logLines()).length, 0);
      assert.doesNotMatch(app.stderr(), /\n\s+at /, 'no stack trace');
    } finally {
      app.kill();
    }
  });

  it('an installed package’s instrumentation loads only when the app first requires it', async () => {
    const app = await startApp({ fixture: 'express-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'deferred', OTEL_LOG_LEVEL: 'debug' }) });
    try {
      const line = startLines(app.logLines())[0]!;
      assert.ok((line.deferred as string[]).includes('pg'), JSON.stringify(line.deferred));
      assert.ok(!(line.instrumentations as string[]).includes('pg'));
      assert.ok((line.instrumentations as string[]).includes('http'), 'node core ones load at start');
      const loadedPg = () => app.logLines().some((l) => l.message === 'Instrumentation pg loaded on first require of pg');
      await app.get('/api/users/1');
      assert.equal(loadedPg(), false, 'express alone does not load pg');
      assert.deepEqual(await (await app.get('/api/db')).json(), { n: 42 });
      assert.equal(loadedPg(), true);
      await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === 'deferred' && s.scope.name === '@opentelemetry/instrumentation-pg'));
    } finally {
      app.kill();
    }
  });

  it('loads by its package name, as users write it: --require and --import @innatural/otel/register', async () => {
    for (const [flag, fixture] of [
      ['--require', 'express-app.js'],
      ['--import', 'express-app.mjs'],
    ] as const) {
      const service = `by-name${flag}`;
      // Resolved through package.json "exports" (self-reference from the repository root).
      const app = await startApp({ fixture, preload: 'none', nodeArgs: [flag, '@innatural/otel/register'], env: sinkEnv(sink, { OTEL_SERVICE_NAME: service }) });
      try {
        await (await app.get('/api/users/2')).text();
        assert.equal(startLines(app.logLines()).length, 1, app.stderr());
        await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === service && s.attributes['http.route'] === '/api/users/:id'));
      } finally {
        app.kill();
      }
    }
  });

  it('worker threads do not start a second SDK', async () => {
    const app = await startApp({ fixture: 'worker-app.js', env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'workers' }) });
    try {
      assert.match(app.stdout(), /worker up/);
      assert.equal(startLines(app.logLines()).length, 1);
    } finally {
      app.kill();
    }
  });
});
