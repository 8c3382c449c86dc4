/**
 * One health server for a node:cluster group: real cluster apps under the real preload, a
 * primary and its workers in child processes, requests spread over the workers on fresh
 * connections (the primary deals connections round-robin), and what the primary's health
 * server says about them: /metrics, the summary, the dashboard history, /api/health and
 * readiness; traces from each worker; workers killed, crashing in a loop, hung, forked
 * without the preload; the health port taken; a primary without the preload (PM2's case).
 */
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { healthUrl, REPO, sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { parseExposition, type Exposition } from '../support/prom-text';
import { eventually, waitFor } from '../support/wait';

const P = 'innatural_chatbot';
const ROUTE = '/api/items/:id';

interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A GET on a connection of its own (no keep-alive), so the primary hands each to the next worker. */
function get(url: string, path: string, timeoutMs = 10_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** n requests, `concurrency` at a time; answers by worker id (from the app's JSON). */
async function spread(app: RunningApp, n: number, concurrency = 8, timeoutMs?: number): Promise<{ byWorker: Map<number, number>; failed: number }> {
  const byWorker = new Map<number, number>();
  let failed = 0;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        try {
          const answer = await get(app.url, `/api/items/${i}`, timeoutMs);
          if (answer.status !== 200) throw new Error(`status ${answer.status}`);
          const { worker } = JSON.parse(answer.body) as { worker: number };
          byWorker.set(worker, (byWorker.get(worker) ?? 0) + 1);
        } catch {
          failed++;
        }
      }
    }),
  );
  return { byWorker, failed };
}

async function scrape(health: string): Promise<{ text: string; m: Exposition; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${health}/metrics`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return { text, m: parseExposition(text), ms: performance.now() - started };
}

async function json(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

const sum = (m: Exposition, name: string, match: Record<string, string> = {}) => m.find(name, match).reduce((n, s) => n + s.value, 0);
const workerPids = (app: RunningApp) => new Map([...app.stdout().matchAll(/worker (\d+) pid (\d+) listening/g)].map((x) => [Number(x[1]), Number(x[2])]));
const lines = (app: RunningApp, pattern: RegExp) => app.stderr().split('\n').filter((l) => pattern.test(l));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('one health server for a node:cluster group', () => {
  let sink: OtlpSink;
  const apps: RunningApp[] = [];
  before(async () => {
    sink = await startOtlpSink();
  });
  after(async () => {
    // The workers end when their primary's channel closes.
    for (const app of apps) app.kill();
    await sink?.close();
  });

  async function start(env: Record<string, string> = {}, preload: 'require' | 'none' = 'require') {
    const app = await startApp({
      fixture: 'cluster-app.js',
      preload,
      env: sinkEnv(sink, { OTEL_METRICS_EXPORTER: 'prometheus', OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', ...env }),
      readyTimeoutMs: 20_000,
    });
    apps.push(app);
    return app;
  }

  it('counts all 200 requests spread over 2 workers on /metrics, with histogram counts that add up', async () => {
    const app = await start({ INNATURAL_HISTORY_INTERVAL_MS: '200' });
    const health = await healthUrl(app);
    const { byWorker, failed } = await spread(app, 200);
    assert.equal(failed, 0);
    assert.equal(byWorker.size, 2, `both workers served: ${JSON.stringify([...byWorker])}`);
    for (const n of byWorker.values()) assert.ok(n >= 20, `each worker took a share: ${JSON.stringify([...byWorker])}`);

    const { m } = await scrape(health);
    const route = { method: 'GET', route: ROUTE, status_code: '200' };
    assert.equal(m.value(`${P}_http_requests_total`, route), 200);
    assert.equal(m.value(`${P}_http_request_duration_seconds_count`, route), 200);
    assert.equal(m.value(`${P}_http_request_duration_seconds_bucket`, { ...route, le: '+Inf' }), 200);
    const buckets = m.find(`${P}_http_request_duration_seconds_bucket`, route).map((s) => s.value);
    assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), 'cumulative buckets never decrease');
    assert.ok(m.value(`${P}_http_request_duration_seconds_sum`, route) > 0);

    // Memory per process, the primary's included; counters of CPU summed into one series.
    const rss = m.find('process_resident_memory_bytes');
    assert.deepEqual(rss.map((s) => s.labels.worker).sort(), ['1', '2', 'primary']);
    assert.equal(m.find('process_cpu_seconds_total').length, 1);
    assert.deepEqual(Object.keys(m.find('process_cpu_seconds_total')[0]!.labels), []);
    assert.equal(m.value(`${P}_cluster_workers`, { state: 'running' }), 2);
    assert.equal(m.value(`${P}_cluster_workers`, { state: 'reporting' }), 2);
    assert.equal(m.value(`${P}_ready`), 1);

    const summary = await json(`${health}/api/metrics/summary`);
    assert.equal(summary.body.metrics.requests.total, 200);

    const ready = await json(`${health}/api/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.workers, { ready: 2, running: 2 });
    const doc = await json(`${health}/api/health`);
    assert.equal(doc.body.status, 'healthy');
    assert.deepEqual(
      doc.body.cluster.workers.map((w: { id: string; ready: boolean }) => [w.id, w.ready]),
      [
        ['1', true],
        ['2', true],
      ],
    );

    // The dashboard's history reads the group: its request rate saw the 200, its memory is the group's.
    const points = await eventually(
      async () => {
        const { body } = await json(`${health}/api/metrics/history`);
        const seen = (body.points as Array<{ requestsPerSec: number }>).some((p) => p.requestsPerSec > 0);
        return seen && body.points.length >= 2 ? (body.points as Array<{ requestsPerSec: number; rssBytes: number }>) : undefined;
      },
      5000,
      'history',
      () => 'no point with requests',
    );
    assert.ok(points.at(-1)!.rssBytes > Math.max(...rss.map((s) => s.value)), 'history memory is the sum of the group');

    const stderr = app.stderr();
    assert.equal(lines(app, /"Health server listening"/).length, 1, stderr);
    assert.doesNotMatch(stderr, /EADDRINUSE/);
  });

  it('exports each worker’s traces with its own service.instance.id', async () => {
    sink.clear();
    const app = await start({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'cluster-fixture' });
    const pids = workerPids(app);
    await spread(app, 40);
    const servers = await sink.waitFor(() => {
      const spans = sink.spans.filter((s) => s.kind === 2 && s.resource['service.name'] === 'cluster-fixture');
      return new Set(spans.map((s) => s.resource['process.pid'])).size >= 2 ? spans : undefined;
    }, 10_000);
    const idByPid = new Map<unknown, Set<unknown>>();
    for (const s of servers) {
      const ids = idByPid.get(s.resource['process.pid']) ?? new Set();
      ids.add(s.resource['service.instance.id']);
      idByPid.set(s.resource['process.pid'], ids);
    }
    assert.deepEqual([...idByPid.keys()].map(Number).sort(), [...pids.values()].sort(), 'spans from both workers, none from the primary');
    for (const ids of idByPid.values()) assert.equal(ids.size, 1, 'one id per process');
    const ids = [...idByPid.values()].map((s) => [...s][0]);
    assert.equal(new Set(ids).size, 2, `distinct ids: ${ids.join(', ')}`);
    for (const id of ids) assert.match(String(id), /^[0-9a-f-]{36}$/);

    // Only the workers require express: the primary's "deferred" gives way to their "active",
    // in /api/health (the workers' health answers) and the summary (their metrics answers).
    const health = await healthUrl(app);
    const doc = await json(`${health}/api/health`);
    assert.ok(doc.body.instrumentations.active.includes('express'), JSON.stringify(doc.body.instrumentations));
    assert.ok(!doc.body.instrumentations.deferred.includes('express'));
    const summary = await json(`${health}/api/metrics/summary`);
    assert.deepEqual(summary.body.instrumentations, doc.body.instrumentations);
  });

  it('makes a service.instance.id set for the pod distinct per worker', async () => {
    sink.clear();
    const app = await start({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SERVICE_NAME: 'cluster-pod', OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7' });
    await spread(app, 40);
    const ids = await sink.waitFor(() => {
      const found = new Set(sink.spans.filter((s) => s.resource['service.name'] === 'cluster-pod').map((s) => s.resource['service.instance.id']));
      return found.size >= 2 ? [...found].sort() : undefined;
    }, 10_000);
    assert.deepEqual(ids, ['pod-7-worker-1', 'pod-7-worker-2']);
  });

  it('keeps answering when a worker is killed: the worker leaves the aggregate, what it counted stays', async () => {
    const app = await start({ FIXTURE_NO_REFORK: 'true', FIXTURE_PRIMARY_STAYS: 'true' });
    const health = await healthUrl(app);
    const pids = workerPids(app);
    const first = await spread(app, 60);
    assert.equal(first.failed, 0);
    const before = await scrape(health);
    assert.equal(sum(before.m, `${P}_http_requests_total`, { route: ROUTE }), 60);

    process.kill(pids.get(1)!, 'SIGKILL');
    const after = await eventually(
      async () => {
        const s = await scrape(health);
        return s.m.value(`${P}_cluster_workers`, { state: 'running' }) === 1 ? s : undefined;
      },
      5000,
      'worker 1 leaves',
      () => app.stderr(),
    );
    assert.deepEqual(after.m.find('process_resident_memory_bytes').map((s) => s.labels.worker).sort(), ['2', 'primary']);
    assert.equal(sum(after.m, `${P}_http_requests_total`, { route: ROUTE }), 60, 'a summed counter does not go down (rate() would read a reset)');
    assert.equal(after.m.value(`${P}_cluster_worker_exits_total`), 1);
    assert.match(app.stderr(), new RegExp(`Cluster worker 1 \\(pid ${pids.get(1)}\\) exited by SIGKILL; the health server answers for the 1 left`));
    const ready = await json(`${health}/api/health/ready`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body.workers, { ready: 1, running: 1 });

    const more = await spread(app, 20);
    assert.equal(more.failed, 0);
    assert.deepEqual([...more.byWorker.keys()], [2]);
    assert.equal(sum((await scrape(health)).m, `${P}_http_requests_total`, { route: ROUTE }), 80);

    process.kill(pids.get(2)!, 'SIGKILL');
    // Between its death and its 'exit', the worker counts as running but not ready: 'no cluster worker is ready' first.
    await eventually(
      async () => {
        const r = await json(`${health}/api/health/ready`);
        return r.status === 503 && r.body.reason === 'no cluster worker is running' ? r : undefined;
      },
      5000,
      'not ready without workers',
      () => app.stderr(),
    );
    assert.equal((await json(`${health}/api/health/live`)).status, 200);
    assert.equal(sum((await scrape(health)).m, `${P}_http_requests_total`, { route: ROUTE }), 80);
  });

  it('a worker crashing in a loop: one line per 10 s from the primary, the health server and the other workers unaffected', async () => {
    const app = await start({ FIXTURE_CRASHING: '1' });
    const health = await healthUrl(app);
    const stableWorkers = new Set(workerPids(app).keys());
    let liveFailures = 0;
    let probes = 0;
    let lastTotal = 0;
    let decreases = 0;
    const deadline = Date.now() + 4000;
    const servedBy = new Map<number, number>();
    while (Date.now() < deadline) {
      // A connection dealt to the worker as it crashes is the app's loss, not ours: short timeout.
      const [live, batch, s] = await Promise.all([fetch(`${health}/api/health/live`), spread(app, 20, 4, 1000), scrape(health)]);
      probes++;
      if (live.status !== 200) liveFailures++;
      for (const [worker, n] of batch.byWorker) if (stableWorkers.has(worker)) servedBy.set(worker, (servedBy.get(worker) ?? 0) + n);
      const total = sum(s.m, `${P}_http_requests_total`, { route: ROUTE });
      if (total < lastTotal) decreases++;
      lastTotal = total;
    }
    assert.equal(liveFailures, 0, `${probes} probes`);
    assert.equal(decreases, 0, 'the summed counter never went down across crashes');
    const exits = [...app.stdout().matchAll(/worker \d+ exited 1/g)].length;
    assert.ok(exits >= 3, `the crashing worker crashed ${exits} times`);
    // The crashing worker may have said "listening" before the steady ones did: what it served after its last
    // report died with it (as in any aggregation by scrape). Only the workers still alive are the steady ones.
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const pids = workerPids(app);
    const served = [...servedBy].reduce((n, [worker, count]) => (alive(pids.get(worker)!) ? n + count : n), 0);
    // A worker late for one read (500 ms) contributes its previous answer to that scrape: nothing is lost, the next has it.
    let total = 0;
    await eventually(
      async () => {
        total = sum((await scrape(health)).m, `${P}_http_requests_total`, { route: ROUTE });
        return total >= served;
      },
      3000,
      'every request of the steady workers counted',
      () => `${total} counted, ${served} served by the steady workers\n${app.stderr()}`,
    );
    assert.ok(total >= served, `${total} counted >= ${served} served by the steady workers`);
    assert.ok((await scrape(health)).m.value(`${P}_cluster_worker_exits_total`) >= 3);
    assert.equal((await json(`${health}/api/health/ready`)).status, 200);
    // Each crash is reported by the worker itself (Node's report, flushed); the primary says it once per 10 s.
    assert.equal(lines(app, /Cluster worker \d+ \(pid \d+\) exited with code 1/).length, 1, app.stderr());
    assert.ok(lines(app, /worker crash on purpose/).length >= 3);
    assert.doesNotMatch(app.stderr(), /EADDRINUSE/);
  });

  it('a hung worker does not hang /metrics: its previous answer stands in, within the per-worker wait', async (t) => {
    const app = await start();
    const health = await healthUrl(app);
    await spread(app, 40);
    await scrape(health); // every worker has answered once
    const blocked = get(app.url, '/block?ms=3000');
    await new Promise((r) => setTimeout(r, 300));
    const first = await scrape(health);
    const during = await scrape(health);
    t.diagnostic(`/metrics with one of 2 workers blocked: ${Math.round(first.ms)} and ${Math.round(during.ms)} ms`);
    assert.ok(during.ms < 1500, `/metrics took ${Math.round(during.ms)} ms`);
    assert.equal(sum(during.m, `${P}_http_requests_total`, { route: ROUTE }), 40);
    assert.equal(during.m.value(`${P}_cluster_workers`, { state: 'reporting' }), 1);
    const ready = await json(`${health}/api/health/ready`);
    assert.equal(ready.status, 200, 'the other worker is ready');
    assert.deepEqual(ready.body.workers, { ready: 1, running: 2 });
    assert.equal((await blocked).status, 200);
    const afterwards = await eventually(
      async () => {
        const s = await scrape(health);
        return s.m.value(`${P}_cluster_workers`, { state: 'reporting' }) === 2 ? s : undefined;
      },
      5000,
      'the worker answers again',
      () => app.stderr(),
    );
    assert.equal(sum(afterwards.m, `${P}_http_requests_total`, { route: ROUTE }), 40);
    assert.equal(sum(afterwards.m, `${P}_http_requests_total`, { route: '/block' }), 1);
  });

  it('the health port taken by an unrelated process: one line from the primary, none from the workers, the app serves', async () => {
    const squatter: Server = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const port = (squatter.address() as { port: number }).port;
    try {
      const app = await start({ INNATURAL_HEALTH_PORT: String(port) });
      const { byWorker, failed } = await spread(app, 40);
      assert.equal(failed, 0);
      assert.equal(byWorker.size, 2);
      await new Promise((r) => setTimeout(r, 300));
      const taken = lines(app, /Health server cannot listen/);
      assert.equal(taken.length, 1, app.stderr());
      assert.match(taken[0]!, new RegExp(`127\\.0\\.0\\.1:${port}: .*EADDRINUSE.*the app runs on`));
      assert.equal(lines(app, /EADDRINUSE/).length, 1, 'no worker tried to bind it');
      assert.equal(app.proc.exitCode, null);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  });

  it('workers forked without the preload: one line each, the health server answers for the primary, readiness goes without them', async () => {
    const app = await start({ FIXTURE_WORKER_EXEC_ARGV: '[]' });
    const health = await healthUrl(app);
    assert.equal((await spread(app, 20)).failed, 0);
    const line = await eventually(
      async () => {
        await scrape(health);
        return lines(app, /has never answered the health server/).length >= 2 ? lines(app, /has never answered/) : undefined;
      },
      12_000,
      'never-answered lines',
      () => app.stderr(),
    );
    assert.match(line[0]!, /it may run without the preload/);
    const ready = await json(`${health}/api/health/ready`);
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    await new Promise((r) => setTimeout(r, 600));
    await scrape(health);
    assert.equal(lines(app, /has never answered/).length, 2, 'once per worker');
  });

  it('a primary without the preload: the first worker serves the port, bound exclusively, the others say why not', async () => {
    const port = await freePort();
    const app = await start(
      { INNATURAL_HEALTH_PORT: String(port), FIXTURE_WORKER_EXEC_ARGV: JSON.stringify(['--require', join(REPO, 'register.js')]) },
      'none',
    );
    const { failed } = await spread(app, 20);
    assert.equal(failed, 0);
    await waitFor(() => lines(app, /Health server (listening|cannot listen)/).length >= 2, 5000, 'both workers tried', () => app.stderr());
    assert.equal(lines(app, /"Health server listening"/).length, 1, app.stderr());
    const refused = lines(app, /Health server cannot listen/);
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, /cluster worker \d: another worker of the group has it, see the line above/);
    assert.equal(lines(app, /its primary does not run @innatural\/otel/).length, 2);
    assert.match(lines(app, /its primary does not run/)[0]!, /answers for this worker alone; load the preload in the primary too/);
    const { m } = await scrape(`http://127.0.0.1:${port}`);
    const own = sum(m, `${P}_http_requests_total`, { route: ROUTE });
    assert.ok(own > 0 && own < 20, `one worker's own count: ${own}`);
    assert.equal(m.find(`${P}_cluster_workers`).length, 0);
  });

  it('a worker that disconnects still ends: the preload holds no worker open', async () => {
    const app = await start({ FIXTURE_WORKER_DISCONNECTS: 'true', FIXTURE_NO_REFORK: 'true', FIXTURE_PRIMARY_STAYS: 'true' });
    const exits = await waitFor(
      () => {
        const found = [...app.stdout().matchAll(/worker \d+ exited 0 after disconnect in (\d+) ms/g)].map((x) => Number(x[1]));
        return found.length >= 2 ? found : undefined;
      },
      5000,
      'workers exit',
      () => app.stdout() + app.stderr(),
    );
    for (const ms of exits) assert.ok(ms < 1000, `exited ${ms} ms after disconnect`);
  });

  it('a primary whose workers have all ended exits, though a scraper keeps a connection open to its health server', async () => {
    const app = await start({ FIXTURE_NO_REFORK: 'true' });
    const health = new URL(await healthUrl(app));
    // As Prometheus or the dashboard page: one keep-alive connection, a request on it every 50 ms.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    let reused = 0;
    let scraping = true;
    const scraper = (async () => {
      while (scraping) {
        await new Promise<void>((resolve) => {
          const req = request({ host: health.hostname, port: health.port, path: '/api/health/live', agent }, (res) => {
            if (req.reusedSocket) reused++;
            res.resume().on('end', resolve);
          });
          req.on('error', () => resolve());
          req.end();
        });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      await waitFor(() => reused >= 2, 5000, 'a kept-alive connection', () => app.stderr());
      for (const pid of workerPids(app).values()) process.kill(pid, 'SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      const exit = await Promise.race([app.exited, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), 3000)))]);
      clearTimeout(timer);
      assert.ok(exit, `the primary still ran 3 s after its workers were killed, its health server being scraped\n${app.stdout()}${app.stderr()}`);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.equal([...app.stdout().matchAll(/worker \d+ exited SIGKILL/g)].length, 2);
    } finally {
      scraping = false;
      await scraper;
      agent.destroy();
    }
  });
});
