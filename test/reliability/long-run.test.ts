/**
 * Reliability scenario 11: steady mixed traffic (routes, PostgreSQL, Redis, handler errors,
 * unknown paths, /metrics and /api/health scrapes) under the full preload, traces exported.
 * RSS at the end stays within 10% of RSS after warm-up (30% in the 15 s form): nothing grows with time.
 * 10 minutes with INNATURAL_RELIABILITY=long (npm run test:reliability); 15 s (after 30 s warm-up) in npm test.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { healthUrl, sinkEnv, startApp } from '../support/app';
import { LONG, percentile, rssMb, sleep, startLoad } from '../support/load';
import { startOtlpSink } from '../support/otlp-sink';

// RSS rises for the first ~30 s (V8 sizing its heap, pools filling), then holds: measured 127, 150, then 117-120 MB every 10 s for 3 min.
const WARM_MS = LONG ? 60_000 : 30_000;
const RUN_MS = LONG ? 600_000 : 15_000;

describe('reliability: long run', () => {
  it(`${RUN_MS / 1000} s of mixed traffic: RSS within 10% of its post-warm-up value, every request answered`, async () => {
    const sink = await startOtlpSink();
    const app = await startApp({
      fixture: 'express-app.js',
      // Node 20's young generation. V8 13 (Node 24+) sizes it from the heap limit and grows it once,
      // 40 s or so into this load: RSS jumped by 40 MB while the heap live after a GC stayed at 25 MB
      // (measured over 2 min). RSS then measures the nursery, not what accumulates.
      nodeArgs: ['--max-semi-space-size=16'],
      env: sinkEnv(sink, { OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_METRIC_EXPORT_INTERVAL: '5000', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', REDIS_URL: 'redis://127.0.0.1:6379' }),
    });
    const health = await healthUrl(app);
    const paths = ['/api/users/1', '/api/users/2', '/api/db', '/api/users/3', '/api/cache', '/api/fail', '/no/such/page', '/api/users/4'];
    const load = startLoad(app.url, paths, 100);
    let scrapes = 0;
    const scraper = setInterval(() => {
      scrapes++;
      void fetch(`${health}/metrics`).then((r) => r.arrayBuffer()).catch(() => {});
      void fetch(`${health}/api/health`).then((r) => r.arrayBuffer()).catch(() => {});
    }, 1000);
    // The sink keeps what it receives; drop it as we go so the test process's own memory stays flat.
    const drain = setInterval(() => sink.clear(), 5000);
    try {
      await sleep(WARM_MS);
      load.window();
      const rssWarm = rssMb(app.proc.pid!);
      const samples: number[] = [];
      const until = Date.now() + RUN_MS;
      while (Date.now() < until) {
        await sleep(Math.min(10_000, until - Date.now()));
        samples.push(rssMb(app.proc.pid!));
      }
      const rssEnd = rssMb(app.proc.pid!);
      const served = load.window();
      const figures = `RSS ${rssWarm.toFixed(1)} MB after warm-up, ${rssEnd.toFixed(1)} MB after ${RUN_MS / 1000} s (max ${Math.max(...samples).toFixed(1)}); ${served.ok}/${served.sent} answered, p99 ${percentile(served.latencies, 99).toFixed(1)} ms; ${scrapes} scrapes`;
      console.log(`# ${figures}`);
      // 15 s sits inside V8's own heap sizing: +11% was seen on Node 26 and +24% on a loaded CI
      // machine on Node 20 with every request answered. The short form catches gross growth; the
      // 10-minute form (INNATURAL_RELIABILITY=long) holds the 10% bound.
      assert.ok(rssEnd <= rssWarm * (LONG ? 1.1 : 1.3), figures);
      assert.equal(served.failed, 0, figures);
      assert.equal(app.proc.exitCode, null);
    } finally {
      clearInterval(scraper);
      clearInterval(drain);
      await load.stop();
      app.kill();
      await sink.close();
    }
  });
});
