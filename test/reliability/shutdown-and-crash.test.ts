/**
 * Reliability scenarios 9 and 10: the process ends under load.
 * 9: SIGTERM to an app with its own graceful handler (it closes its server): in-flight requests
 *    finish, readiness is 503 during the drain, and every request answered before the end has
 *    its span at the sink.
 * 10: an uncaught exception under load: the crash reaches the Sentry sink and the spans reach
 *    the OTLP sink before the process exits, with the exit status it has without the preload.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthUrl, sinkEnv, startApp } from '../support/app';
import { LONG, sleep, startLoad } from '../support/load';
import { startOtlpSink } from '../support/otlp-sink';
import { startSentrySink } from '../support/sentry-sink';

const LOAD_MS = LONG ? 20_000 : 1_500;
const SLOW = 10;

describe('reliability: ending under load', () => {
  it('SIGTERM with the app’s own graceful handler: in-flight requests drain, readiness 503, every answered request’s span arrives', async () => {
    const sink = await startOtlpSink();
    const app = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, { FIXTURE_SIGTERM_HANDLER: 'true', OTEL_SERVICE_NAME: 'drain' }),
    });
    try {
      const health = await healthUrl(app);
      const load = startLoad(app.url, ['/api/users/1'], 200);
      await sleep(LOAD_MS);
      const slow = Array.from({ length: SLOW }, () => app.get('/api/slow?ms=1500').then(async (r) => ({ status: r.status, body: await r.text() })));
      await sleep(300);
      app.kill('SIGTERM');
      await sleep(100);
      const ready = await fetch(`${health}/api/health/ready`).then((r) => r.status).catch(() => 0);
      const drained = await Promise.all(slow);
      const stats = await load.stop();
      const exit = await app.exited;

      assert.equal(ready, 503, 'not ready while draining');
      assert.deepEqual(drained.map((d) => d.status), Array(SLOW).fill(200), 'in-flight requests finished');
      assert.deepEqual(exit, { code: 0, signal: null });
      const answered = stats.ok + SLOW;
      const spans = sink.spans.filter((s) => s.kind === 2 && ['/api/users/:id', '/api/slow'].includes(String(s.attributes['http.route'])));
      const figures = `${stats.ok} load requests answered (${stats.failed} refused after the server closed) + ${SLOW} drained; ${spans.length} server spans at the sink`;
      console.log(`# ${figures}`);
      assert.equal(spans.length, answered, figures);
      assert.equal(spans.filter((s) => s.attributes['http.route'] === '/api/slow').length, SLOW, figures);
    } finally {
      app.kill();
      await sink.close();
    }
  });

  it('an uncaught exception under load reaches Sentry and the OTLP sink before exit, with the status it has without us', async () => {
    const crashUnder = async (preload: 'require' | 'none') => {
      const sink = await startOtlpSink();
      const sentry = await startSentrySink();
      const app = await startApp({
        fixture: 'sentry-app.js',
        preload,
        env: sinkEnv(sink, { SENTRY_DSN: sentry.dsn, OTEL_SERVICE_NAME: 'crash' }),
      });
      const load = startLoad(app.url, ['/api/ok'], 200);
      await sleep(LOAD_MS);
      await (await app.get('/api/crash')).arrayBuffer();
      const exit = await app.exited;
      const stats = await load.stop();
      const result = { exit, stats, stderr: app.stderr(), spans: [...sink.spans], events: [...sentry.events] };
      await sink.close();
      await sentry.close();
      return result;
    };
    const bare = await crashUnder('none');
    const ours = await crashUnder('require');
    assert.deepEqual(bare.exit, { code: 1, signal: null });
    assert.deepEqual(ours.exit, bare.exit);
    assert.match(ours.stderr, /fixture crash for sentry/, 'Node’s own report still printed');
    const fatal = ours.events.find((e) => e.level === 'fatal' && e.exception?.values?.some((v) => v.value === 'fixture crash for sentry'));
    assert.ok(fatal, `the crash reached Sentry: ${JSON.stringify(ours.events.map((e) => [e.level, e.exception?.values?.[0]?.value]))}`);
    const crashSpan = ours.spans.find((s) => s.attributes['http.route'] === '/api/crash');
    assert.ok(crashSpan, 'the crashing request’s span reached the OTLP sink');
    const okSpans = ours.spans.filter((s) => s.kind === 2 && s.attributes['http.route'] === '/api/ok').length;
    const figures = `${ours.stats.ok} requests answered before the crash, ${okSpans} of their spans at the sink, Sentry fatal event ${fatal.event_id}`;
    console.log(`# ${figures}`);
    // Every request answered before the crash has its span; requests the crash cut off may too.
    assert.ok(okSpans >= ours.stats.ok, figures);
  });
});
