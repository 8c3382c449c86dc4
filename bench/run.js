'use strict';
/**
 * npm run bench: the preload against no instrumentation and its peers, on one core, under each
 * Node version of BENCH_NODES (bench/nodes.js). Variants and versions run interleaved round by
 * round; the app is pinned to core 1, wrk to core 0. Then the in-process measurements
 * (bench/in-process.js) under each version. Writes bench/results.md and bench/results.json.
 * BENCH_BASELINE=<checkout> adds our variants with that checkout's preload (D0, E0...), interleaved.
 * A benchmark, never a test.
 */
const { spawn, execFile, execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { benchNodes } = require('./nodes');
const { variants, withBaseline } = require('./variants');
const { PEERS } = require('./peers');
const { summarize, targets, markdown } = require('./report');
const { median } = require('./stats');
const http = require('node:http');
const { cpus } = require('node:os');
const { join } = require('node:path');
const { parseRequest } = require('../dist/test/support/otlp-sink.js');

const REPO = join(__dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3);
const STARTS = Number(process.env.BENCH_STARTS ?? 7);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
// Fixed, so that variants scrape and probe without discovery; BENCH_PORT moves them off another run's.
const APP_PORT = Number(process.env.BENCH_PORT ?? 5711);
const HEALTH_PORT = APP_PORT + 1;
// After the load the export queue drains behind it: on Node 24 at ~17,000 traced requests a second the last
// batch arrived 8-10 s after the load ended. Polled, so a run waits only as long as its spans take.
const SPAN_WAIT_MS = 20000;
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** OTLP and Sentry ingestion that only stores bodies: decoding happens after the run, off the hot path. */
function startSink() {
  const bodies = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url === '/v1/traces') bodies.push(Buffer.concat(chunks));
      res.writeHead(200, { 'content-type': req.url.startsWith('/v1/') ? 'application/x-protobuf' : 'application/json' }).end(req.url.startsWith('/v1/') ? '' : '{}');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}`,
        port: server.address().port,
        take: () => bodies.splice(0),
        close: () => server.close(),
      }),
    ),
  );
}

function startApp(node, variant) {
  const proc = spawn('taskset', ['-c', '1', node.bin, ...variant.args, variant.script], {
    cwd: REPO,
    env: variant.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => (stderr += d));
  return { proc, stderr: () => stderr };
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
  });
}

async function waitReady(deadlineMs = 15000) {
  const started = Date.now();
  for (;;) {
    if ((await get(`http://127.0.0.1:${APP_PORT}/api/users/0`)) === 200) return;
    if (Date.now() - started > deadlineMs) throw new Error('app did not start');
    await sleep(2);
  }
}

async function stop(app) {
  if (app.proc.exitCode !== null) return;
  app.proc.kill('SIGKILL');
  await new Promise((r) => app.proc.on('exit', r));
  await sleep(200);
}

/** The app's pid: taskset execs node in place, so the child's pid is node's. */
function cpuTicks(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function rssBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

function toMs(value, unit) {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);
}

/** Asynchronous on purpose: the sink lives in this process and must keep answering during the load. */
async function wrk(seconds, latency) {
  const args = ['-c', '0', 'wrk', '-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, ...(latency ? ['--latency'] : []), `http://127.0.0.1:${APP_PORT}/api/users/1`];
  const out = await new Promise((resolve, reject) =>
    execFile('taskset', args, { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  const requests = Number(/(\d+) requests in/.exec(out)[1]);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const lat = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(out);
    return m ? toMs(m[1], m[2]) : NaN;
  };
  return { requests, rps, p50: lat(50), p99: lat(99), errors: /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? '0' };
}

async function scrapeMs(url) {
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await get(url);
    times.push(performance.now() - t);
  }
  return median(times);
}

function countServerSpans(bodies, service) {
  let n = 0;
  for (const body of bodies) {
    for (const span of parseRequest('ExportTraceServiceRequest', 'protobuf', body).spans) {
      if (span.kind === 2 && span.resource['service.name'] === service) n++;
    }
  }
  return n;
}

/** Spans arrive up to a batch delay after the load: polled, so that a run waits only as long as its last batch. */
async function receivedSpans(sink, service, served) {
  const deadline = Date.now() + SPAN_WAIT_MS;
  let received = 0;
  for (;;) {
    received += countServerSpans(sink.take(), service);
    if (received >= served || Date.now() > deadline) return received;
    await sleep(250);
  }
}

async function measureLoad(node, variant, sink) {
  sink.take();
  const app = startApp(node, variant);
  try {
    await waitReady();
    const warm = await wrk(WARMUP_S, false);
    const pid = app.proc.pid;
    const cpuBefore = cpuTicks(pid);
    const run = await wrk(DURATION_S, true);
    const cpuAfter = cpuTicks(pid);
    const rss = rssBytes(pid);
    const scrape = variant.metrics ? await scrapeMs(variant.metrics) : undefined;
    let spans;
    if (variant.countSpans) {
      // wrk's completed requests, plus the one readiness probe that succeeded.
      const served = warm.requests + run.requests + 1;
      spans = { served, received: await receivedSpans(sink, variant.env.OTEL_SERVICE_NAME, served) };
    }
    return { ...run, cpuUsPerRequest: ((cpuAfter - cpuBefore) * (1e6 / CLK_TCK)) / run.requests, rss, scrapeMs: scrape, spans };
  } finally {
    await stop(app);
  }
}

async function startupMs(node, variant) {
  const t = performance.now();
  const app = startApp(node, variant);
  try {
    await waitReady();
    return performance.now() - t;
  } finally {
    await stop(app);
  }
}

/** Starts interleaved, variant after variant and version after version, so that drift of the machine falls on all alike. */
async function measureStartups(nodes, all) {
  const times = nodes.map(() => Object.fromEntries(all.map((v) => [v.id, []])));
  for (let i = 0; i < STARTS; i++) {
    for (const [n, node] of nodes.entries()) for (const variant of all) times[n][variant.id].push(await startupMs(node, variant));
  }
  return times.map((t) => Object.fromEntries(all.map((v) => [v.id, median(t[v.id])])));
}

/** Pinned like the app, so that its figures compare with the app's. */
function inProcess(node) {
  return new Promise((resolve) =>
    execFile('taskset', ['-c', '1', node.bin, join(__dirname, 'in-process.js')], { cwd: REPO, encoding: 'utf8', maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) process.stderr.write(`in-process measurements on ${node.version} failed: ${stderr || err.message}\n`);
      resolve(err ? undefined : JSON.parse(stdout));
    }),
  );
}

function versions() {
  // Read from node_modules directly: some packages' `exports` hide their package.json.
  const v = (name) => {
    try {
      const file = name === REPO ? join(REPO, 'package.json') : join(REPO, 'node_modules', name, 'package.json');
      return JSON.parse(readFileSync(file, 'utf8')).version;
    } catch {
      return '?';
    }
  };
  return {
    '@innatural/otel': `${v(REPO)} (${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()})`,
    express: v('express'),
    '@opentelemetry/sdk-trace': v('@opentelemetry/sdk-trace'),
    '@opentelemetry/auto-instrumentations-node': v('@opentelemetry/auto-instrumentations-node'),
    '@elastic/opentelemetry-node': PEERS['@elastic/opentelemetry-node'],
    '@sentry/node': v('@sentry/node'),
    'prom-client': v('prom-client'),
    wrk: (() => {
      try {
        return execFileSync('wrk', ['-v'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).split('\n')[0].trim();
      } catch (err) {
        return String(err.stdout ?? '').split('\n')[0].trim() || 'wrk';
      }
    })(),
  };
}

async function main() {
  const only = process.env.BENCH_VARIANTS?.split(',');
  const nodes = benchNodes();
  const sink = await startSink();
  const all = withBaseline(variants(sink, { app: APP_PORT, health: HEALTH_PORT }).filter((v) => !only || only.includes(v.id)));
  const rounds = nodes.map(() => []);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [n, node] of nodes.entries()) {
      const results = {};
      for (const variant of all) {
        results[variant.id] = await measureLoad(node, variant, sink);
        process.stderr.write(`round ${round} node ${node.version} ${variant.id}: ${results[variant.id].rps.toFixed(0)} req/s, ${results[variant.id].cpuUsPerRequest.toFixed(0)} CPU µs/req\n`);
      }
      rounds[n].push(results);
    }
  }
  const startups = await measureStartups(nodes, all);
  sink.close();
  const perNode = [];
  for (const [n, node] of nodes.entries()) {
    process.stderr.write(`in-process measurements on ${node.version}\n`);
    const summary = { ...summarize(all, rounds[n], startups[n]), inProcess: await inProcess(node) };
    perNode.push({ version: node.version, bin: node.bin, ...summary, targets: targets(summary), raw: rounds[n] });
  }

  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, kernel: readFileSync('/proc/version', 'utf8').split(' ')[2] };
  const settings = { rounds: ROUNDS, durationS: DURATION_S, warmupS: WARMUP_S, connections: CONNECTIONS, starts: STARTS };
  const command = `npm run bench  (BENCH_NODES=${nodes.map((n) => n.major).join(',')} BENCH_ROUNDS=${ROUNDS} BENCH_DURATION_S=${DURATION_S} BENCH_WARMUP_S=${WARMUP_S} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_STARTS=${STARTS})`;
  const json = { date: new Date().toISOString(), command, machine, versions: versions(), settings, nodes: perNode };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);
  const text = markdown(json, settings);
  writeFileSync(join(__dirname, 'results.md'), text);
  process.stdout.write(text);
}

module.exports = { startSink, variants, startApp, waitReady, stop, cpuTicks, wrk, median, APP_PORT, CLK_TCK, REPO };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  });
}
