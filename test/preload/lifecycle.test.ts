/**
 * SIGTERM, SIGINT and crashes: telemetry produced before the event reaches the sink, and
 * the process ends exactly as it would without the preload (same signal, same status).
 * The batch delay is a minute, so only our flush can deliver the spans in time.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { FIXTURES, sinkEnv, startApp, type Exit, type Preload } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

describe('lifecycle', () => {
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    await sink?.close();
  });

  const env = (service: string, extra: Record<string, string> = {}) =>
    sinkEnv(sink, { OTEL_SERVICE_NAME: service, OTEL_BSP_SCHEDULE_DELAY: '60000', ...extra });

  /** Runs the fixture, makes one request, then triggers the ending; returns how the process ended. */
  async function endOf(preload: Preload, path: string, service: string, signal?: NodeJS.Signals, extra: Record<string, string> = {}) {
    const app = await startApp({ fixture: 'express-app.js', preload, env: env(service, extra) });
    try {
      const res = await app.get(path);
      await res.arrayBuffer();
      if (signal) app.proc.kill(signal);
      const exit = await Promise.race([
        app.exited,
        new Promise<Exit>((_, reject) => setTimeout(() => reject(new Error(`no exit\n${app.stderr()}`)), 15000)),
      ]);
      return { exit, stderr: app.stderr(), stdout: app.stdout() };
    } finally {
      app.kill();
    }
  }

  const spanOf = (service: string, route: string) =>
    sink.waitFor(
      () => sink.spans.find((s) => s.resource['service.name'] === service && s.attributes['http.route'] === route),
      3000,
    );

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} with no app handler: spans flushed, the process still dies by ${signal}`, async () => {
      const baseline = await endOf('none', '/api/users/1', `bare-${signal}`, signal);
      const ours = await endOf('require', '/api/users/1', `sig-${signal}`, signal);
      assert.deepEqual(baseline.exit, { code: null, signal });
      assert.deepEqual(ours.exit, baseline.exit);
      await spanOf(`sig-${signal}`, '/api/users/:id');
    });
  }

  it('SIGTERM with an app handler: spans flushed, the app decides and exits 0 as without us', async () => {
    const extra = { FIXTURE_SIGTERM_HANDLER: 'true' };
    const baseline = await endOf('none', '/api/users/2', 'bare-handler', 'SIGTERM', extra);
    const ours = await endOf('require', '/api/users/2', 'sig-handler', 'SIGTERM', extra);
    assert.deepEqual(baseline.exit, { code: 0, signal: null });
    assert.deepEqual(ours.exit, baseline.exit);
    assert.match(ours.stdout, /app handler/);
    await spanOf('sig-handler', '/api/users/:id');
  });

  it('an uncaught exception still crashes with status 1 and Node’s report, after the flush', async () => {
    const baseline = await endOf('none', '/api/crash', 'bare-crash');
    const ours = await endOf('require', '/api/crash', 'crash');
    assert.deepEqual(baseline.exit, { code: 1, signal: null });
    assert.deepEqual(ours.exit, baseline.exit);
    assert.match(ours.stderr, /Error: fixture crash\n\s+at /);
    await spanOf('crash', '/api/crash');
  });

  it('an unhandled rejection still crashes with status 1, after the flush', async () => {
    const baseline = await endOf('none', '/api/reject', 'bare-reject');
    const ours = await endOf('require', '/api/reject', 'reject');
    assert.deepEqual(baseline.exit, { code: 1, signal: null });
    assert.deepEqual(ours.exit, baseline.exit);
    assert.match(ours.stderr, /fixture rejection/);
    await spanOf('reject', '/api/reject');
  });

  /**
   * Node's fatal report, from the source line it starts with: [source block, the rest]. The
   * stack under the preload has an extra async_hooks frame, so only the source block (file,
   * line, caret) is compared whole.
   */
  const fatalReport = (stderr: string): [string, string] => {
    const start = new RegExp(`^${join(FIXTURES, 'express-app.js').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:\\d+$`, 'm').exec(stderr);
    assert.ok(start, `no source line in\n${stderr}`);
    const report = stderr.slice(start.index);
    const blank = report.indexOf('\n\n') + 2;
    return [report.slice(0, blank), report.slice(blank)];
  };

  for (const [path, line, message] of [
    ['/api/crash', "    throw new Error('fixture crash');", 'Error: fixture crash'],
    ['/api/reject', "    Promise.reject(new Error('fixture rejection'));", 'Error: fixture rejection'],
  ] as const) {
    it(`${path}: Node’s report names the app’s line with its caret, as without us, not ours`, async () => {
      const baseline = await endOf('none', path, `bare-report${path}`);
      const ours = await endOf('require', path, `report${path}`);
      assert.deepEqual(ours.exit, { code: 1, signal: null });
      assert.ok(!ours.stderr.includes('preload.js'), ours.stderr);
      const [source, rest] = fatalReport(ours.stderr);
      assert.equal(source.split('\n')[1], line);
      assert.match(source.split('\n')[2]!, /^ *\^$/);
      assert.equal(source, fatalReport(baseline.stderr)[0], 'the same source line and caret as Node prints without us');
      assert.ok(rest.startsWith(`${message}\n    at `), rest);
      assert.match(rest, /\n\nNode\.js v\d+\.\d+\.\d+\n$/);
      await spanOf(`report${path}`, path);
    });
  }

  it('the app’s uncaughtExceptionMonitor sees a crash once, not again when we rethrow', async () => {
    const extra = { FIXTURE_CRASH_MONITOR: 'true' };
    const baseline = await endOf('none', '/api/crash', 'bare-monitor', undefined, extra);
    const ours = await endOf('require', '/api/crash', 'monitor', undefined, extra);
    const seen = (out: string) => out.split('\n').filter((l) => l.startsWith('monitor saw'));
    assert.deepEqual(seen(baseline.stdout), ['monitor saw fixture crash (uncaughtException)']);
    assert.deepEqual(seen(ours.stdout), seen(baseline.stdout));
    assert.deepEqual(ours.exit, baseline.exit);
  });

  it('the app’s own uncaughtException handler keeps the process alive, as without us', async () => {
    const app = await startApp({ fixture: 'express-app.js', env: env('handled', { FIXTURE_CATCH_ALL: 'true' }) });
    try {
      await (await app.get('/api/crash')).arrayBuffer();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await app.get('/api/users/3')).status, 200, 'still serving');
      assert.match(app.stdout(), /caught fixture crash/);
    } finally {
      app.kill();
    }
  });
});
