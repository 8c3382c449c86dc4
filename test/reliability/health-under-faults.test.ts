/**
 * Reliability scenarios 4 and 5, against a database that accepts connections and never answers.
 * 4: probed as a kubelet and a dashboard would, under app load: every health answer within the
 * check timeout (+1 s), liveness instant, the app's own requests unaffected. 5: waves of 1,000
 * concurrent /api/health: bounded answers, and the database checked once per cache period
 * however many ask (counted as connections reaching the hanging server).
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { healthUrl, startApp } from '../support/app';
import { LONG, percentile, sleep, startLoad } from '../support/load';

const CACHE_MS = 1000;
const TIMEOUT_MS = 500;
const WAVES = LONG ? 60 : 4;
const PROBE_MS = LONG ? 60_000 : 3_000;

async function hangingDatabase() {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `postgres://postgres@127.0.0.1:${(server.address() as { port: number }).port}/test`,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

async function timed(url: string): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  const r = await fetch(url);
  await r.arrayBuffer();
  return { status: r.status, ms: performance.now() - t };
}

async function startWith(databaseUrl: string) {
  const app = await startApp({
    fixture: 'express-app.js',
    env: {
      OTEL_TRACES_EXPORTER: 'none',
      INNATURAL_HEALTH_PORT: '0',
      INNATURAL_HEALTH_HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      INNATURAL_HEALTH_CACHE_MS: String(CACHE_MS),
      INNATURAL_HEALTH_CHECK_TIMEOUT_MS: String(TIMEOUT_MS),
    },
  });
  return { app, health: await healthUrl(app) };
}

describe('reliability: health under faults', () => {
  it('a database that accepts and never answers: /api/health within the timeout, live and the app’s own requests unaffected', async () => {
    const db = await hangingDatabase();
    const { app, health } = await startWith(db.url);
    const load = startLoad(app.url, ['/api/users/1'], 200);
    try {
      await sleep(500);
      load.window();
      const probes: Array<{ path: string; status: number; ms: number }> = [];
      const until = performance.now() + PROBE_MS;
      // As a kubelet and a dashboard would: every path, every 250 ms.
      while (performance.now() < until) {
        for (const path of ['/api/health', '/api/health/ready', '/api/health/live']) {
          void timed(`${health}${path}`).then((r) => probes.push({ path, ...r }));
        }
        await sleep(250);
      }
      await sleep(TIMEOUT_MS + 200);
      const served = load.window();
      const max = (path: string) => Math.max(...probes.filter((p) => p.path === path).map((p) => p.ms));
      const figures = `${probes.length} probes over ${PROBE_MS} ms: /api/health max ${Math.round(max('/api/health'))} ms, ready max ${Math.round(max('/api/health/ready'))} ms, live max ${Math.round(max('/api/health/live'))} ms; app ${served.ok}/${served.sent} answered, p99 ${percentile(served.latencies, 99).toFixed(1)} ms`;
      console.log(`# ${figures}`);
      assert.ok(probes.filter((p) => p.path !== '/api/health/live').every((p) => p.status === 503), 'unhealthy and not ready');
      assert.ok(max('/api/health') < TIMEOUT_MS + 1000 && max('/api/health/ready') < TIMEOUT_MS + 1000, figures);
      assert.ok(max('/api/health/live') < 100, figures);
      assert.equal(served.failed, 0, figures);
      assert.ok(percentile(served.latencies, 99) < 100, figures);
    } finally {
      await load.stop();
      app.kill();
      db.close();
    }
  });

  it(`${WAVES} waves of 1,000 concurrent /api/health: bounded answers, the database checked once per cache period`, async () => {
    const db = await hangingDatabase();
    const { app, health } = await startWith(db.url);
    try {
      const slowest: number[] = [];
      // A wave that outlasts the cache period (1,000 sockets on a loaded 2-core CI machine can)
      // legitimately starts a second period: each period may check once, and no more.
      let periods = 0;
      for (let wave = 0; wave < WAVES; wave++) {
        const started = performance.now();
        const answers = await Promise.all(Array.from({ length: 1000 }, () => timed(`${health}/api/health`)));
        periods += Math.ceil((performance.now() - started) / CACHE_MS);
        assert.ok(answers.every((a) => a.status === 503));
        slowest.push(Math.max(...answers.map((a) => a.ms)));
        // The cache period counts from the check's answer: wait it out, so each wave is a new period.
        await sleep(CACHE_MS + 100);
      }
      const figures = `${WAVES} waves: slowest answer ${Math.round(Math.max(...slowest))} ms, ${db.connections()} connection(s) to the database`;
      console.log(`# ${figures}`);
      // Bounded by the check's timeout plus the time 1,000 sockets take to be served here, not by the database, which never answers.
      assert.ok(Math.max(...slowest) < TIMEOUT_MS + 3000, figures);
      assert.ok(db.connections() >= WAVES && db.connections() <= periods, `${figures}, ${periods} cache period(s)`);
    } finally {
      app.kill();
      db.close();
    }
  });
});
