/**
 * Reliability scenarios 6 and 8: hostile traffic and hostile configuration.
 * 6: requests to random paths with random methods; the series stay within the caps and a
 *    scrape stays fast (10,000 requests; 50,000 with INNATURAL_RELIABILITY=long).
 * 8: starts with random garbage in every variable the SDK reads (from the config module's
 *    list); every start serves, prints no stack trace, and names each bad variable once
 *    (12 starts; 200 long). Seeded: a failure prints the seed that reproduces it.
 * With every request traced, the same attack leaves at most one exemplar per series bucket.
 */
import assert from 'node:assert/strict';
import { METHODS, Agent, request } from 'node:http';
import { describe, it } from 'node:test';
import { resolveConfig } from '../../src/config/resolve';
import { VARIABLES } from '../../src/config/variables';
import { healthUrl, metricsOnlyEnv, sinkEnv, startApp } from '../support/app';
import { startOtlpSink } from '../support/otlp-sink';
import { LONG } from '../support/load';
import { waitFor } from '../support/wait';
import { parseExposition } from '../support/prom-text';

const REQUESTS = LONG ? 50_000 : 10_000;
const STARTS = LONG ? 200 : 12;
const CAP = 2000;

/** mulberry32: small, seedable, good enough to pick garbage. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Garbage of every kind a variable can hold. Hosts are loopback or unparseable: nothing may leave the machine. */
const GARBAGE = [
  '', ' ', '-1', '0', '1e309', '0x1F', 'NaN', '999999999999', '3.7', '-0', 'Infinity',
  'http://', '://x', 'http://[::1', 'notaurl', 'http://localhost:99999', 'ftp://127.0.0.1/x', 'http://127.0.0.1:1/v1/traces',
  'http://user:pa ss@127.0.0.1:1', 'postgres://%zz@127.0.0.1:1/db', 'redis://:@127.0.0.1:0',
  ',,,', 'a,b,,c', 'express,,nope', 'all,none', '=', 'a=b=c,,=d', 'k=%E0%A4%A',
  'yes', 'TRUE ', 'nah', 'on', 'Off', 'null', 'undefined', '[]', '{}', '{"a":',
  '💥', 'é\u0007x', '\u202eevil', '\uFFFD\uFFFD', '日本語', '\t\n', 'x'.repeat(5000),
];

describe('reliability: hostile traffic and configuration', () => {
  it(`${REQUESTS} requests to random paths with random methods: series within the caps, scrape fast`, async () => {
    const app = await startApp({ fixture: 'express-app.js', env: metricsOnlyEnv({ INNATURAL_METRICS_CARDINALITY_LIMIT: String(CAP) }) });
    const health = await healthUrl(app);
    const agent = new Agent({ keepAlive: true, maxSockets: 32 });
    const url = new URL(app.url);
    const random = prng(6);
    const one = () =>
      new Promise<void>((resolve) => {
        const r = random();
        const path = r < 0.5 ? `/api/users/${Math.floor(random() * 1e9)}` : `/${Math.floor(random() * 1e12).toString(36)}/${Math.floor(random() * 1e6)}?q=${r}`;
        const method = METHODS[Math.floor(random() * METHODS.length)]!;
        const req = request({ host: url.hostname, port: url.port, path, method, agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => resolve());
        req.end();
      });
    try {
      let sent = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (sent < REQUESTS) {
            sent++;
            await one();
          }
        }),
      );
      const sendMs = performance.now() - started;
      const scrapes: number[] = [];
      let text = '';
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        text = await (await fetch(`${health}/metrics`)).text();
        scrapes.push(performance.now() - t);
      }
      const m = parseExposition(text);
      const series = m.find('innatural_chatbot_http_requests_total');
      const allSamples = text.split('\n').filter((l) => l && !l.startsWith('#')).length;
      const figures = `${REQUESTS} requests in ${Math.round(sendMs)} ms: ${series.length} http_requests_total series, ${allSamples} samples in all, median scrape ${scrapes.sort((a, b) => a - b)[2]!.toFixed(1)} ms`;
      console.log(`# ${figures}`);
      assert.ok(series.length <= CAP + 1, figures);
      // Route templates and a closed set of methods: a handful of series, not thousands.
      assert.ok(series.length < 120, figures);
      assert.ok(series.every((s) => s.labels.route === '/api/users/:id' || s.labels.route === 'unmatched' || s.labels.route === '_overflow'), figures);
      assert.ok(allSamples < 3000, figures);
      assert.ok(scrapes[2]! < 50, figures);
      assert.equal(app.proc.exitCode, null);
    } finally {
      agent.destroy();
      app.kill();
    }
  });

  it('the same attack with every request traced: at most one exemplar per series bucket, within the cap', async () => {
    const sink = await startOtlpSink();
    const cap = 5;
    const app = await startApp({
      fixture: 'express-app.js',
      env: sinkEnv(sink, { OTEL_METRICS_EXPORTER: 'prometheus', INNATURAL_METRICS_CARDINALITY_LIMIT: String(cap) }),
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const url = new URL(app.url);
    const random = prng(18);
    try {
      const health = await healthUrl(app);
      for (let i = 0; i < 2000; i++) {
        const r = random();
        const path = r < 0.5 ? `/api/users/${Math.floor(random() * 1e9)}` : `/${Math.floor(random() * 1e12).toString(36)}`;
        const method = METHODS[Math.floor(random() * METHODS.length)]!;
        await new Promise<void>((resolve) => {
          const req = request({ host: url.hostname, port: url.port, path, method, agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', () => resolve());
          req.end();
        });
      }
      const text = await (await fetch(`${health}/metrics`, { headers: { accept: 'application/openmetrics-text;version=1.0.0' } })).text();
      const name = 'innatural_chatbot_http_request_duration_seconds_bucket';
      const buckets = text.split('\n').filter((l) => l.startsWith(`${name}{`));
      const withExemplar = buckets.filter((l) => l.includes(' # {'));
      const series = new Set(buckets.map((l) => l.replace(/,?le="[^"]*"/, '').split(' ')[0]));
      const figures = `${series.size} series, ${buckets.length} bucket lines, ${withExemplar.length} with an exemplar`;
      assert.ok(series.size <= cap + 1, figures);
      assert.ok(withExemplar.length >= 1, figures);
      for (const line of buckets) assert.ok((line.match(/ # \{/g) ?? []).length <= 1, line);
      // One bucket line per (series, le): a second exemplar would need a second line.
      assert.equal(new Set(buckets.map((l) => l.split(' ')[0])).size, buckets.length, figures);
      assert.ok(series.has(`${name}{method="_overflow",route="_overflow",status_code="_overflow"}`), figures);
    } finally {
      agent.destroy();
      app.kill();
      await sink.close();
    }
  });

  it(`${STARTS} starts with garbage in every variable: each serves, no stack trace, each bad variable named once`, async () => {
    const names = Object.keys(VARIABLES);
    const baseSeed = Number(process.env.INNATURAL_FUZZ_SEED ?? 20261125);
    let namedChecks = 0;
    for (let n = 0; n < STARTS; n++) {
      const seed = baseSeed + n;
      const random = prng(seed);
      const env: Record<string, string> = {};
      for (const name of names) env[name] = GARBAGE[Math.floor(random() * GARBAGE.length)]!;
      // Ports the app and our health server would share by chance are a different test.
      env.INNATURAL_HEALTH_HOST = random() < 0.5 ? env.INNATURAL_HEALTH_HOST! : '127.0.0.1';
      const expected = resolveConfig(env);
      const app = await startApp({ fixture: 'express-app.js', env }).catch((err: Error) => {
        throw new Error(`seed ${seed}: ${err.message}`);
      });
      try {
        const res = await app.get('/api/users/1');
        assert.equal(res.status, 200, `seed ${seed}`);
        await res.arrayBuffer();
        // stderr is another pipe than stdout's "listening": give it time to arrive under load.
        const wanted = expected.config.disabled ? [] : expected.warnings.map((w) => w.variable);
        await waitFor(() => wanted.every((v) => app.logLines().some((l) => l.variable === v)), 5000, `seed ${seed}`, () => app.stderr().slice(0, 2000)).catch(() => {});
        assert.doesNotMatch(app.stderr(), /\n\s+at .+:\d+:\d+\)?\n/, `seed ${seed}: no stack trace\n${app.stderr().slice(0, 3000)}`);
        if (!expected.config.disabled) {
          const lines = app.logLines();
          for (const { variable } of expected.warnings) {
            const named = lines.filter((l) => l.variable === variable);
            assert.equal(named.length, 1, `seed ${seed}: ${variable} named ${named.length} times: ${JSON.stringify(named).slice(0, 500)}\nstderr: ${app.stderr().slice(0, 600)}`);
            namedChecks++;
          }
        }
      } finally {
        app.kill();
        await app.exited;
      }
    }
    console.log(`# ${STARTS} starts, ${names.length} variables each, ${namedChecks} bad values each named once`);
    assert.ok(namedChecks > STARTS * 10);
  });
});
