'use strict';
/**
 * npm run bench: the preload against no instrumentation and its peers, on one core.
 * Variants run interleaved round by round; the app is pinned to core 1, wrk to core 0.
 * Writes bench/results.md and bench/results.json. A benchmark, never a test.
 */
const { spawn, execFile, execFileSync } = require('node:child_process');
const { readFileSync, writeFileSync } = require('node:fs');
const { measureRedaction } = require('./redaction');
const http = require('node:http');
const { cpus } = require('node:os');
const { join } = require('node:path');
const { parseRequest } = require('../dist/test/support/otlp-sink.js');

const REPO = join(__dirname, '..');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const WARMUP_S = Number(process.env.BENCH_WARMUP_S ?? 3);
const STARTS = Number(process.env.BENCH_STARTS ?? 9);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const APP_PORT = 5711;
const HEALTH_PORT = 5712;
const CLK_TCK = 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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

function variants(sink) {
  const common = { PORT: String(APP_PORT), PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' };
  const ours = {
    ...common,
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    INNATURAL_HEALTH_PORT: String(HEALTH_PORT),
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    OTEL_LOG_LEVEL: 'warn',
  };
  return [
    { id: 'A', label: 'no instrumentation', script: 'bench/app.js', args: [], env: common },
    { id: 'B', label: 'seed style: prom-client + response-time', script: 'bench/seed-style.js', args: [], env: common, metrics: `http://127.0.0.1:${APP_PORT}/metrics` },
    {
      id: 'C',
      label: 'stock @opentelemetry/auto-instrumentations-node/register, traces over OTLP',
      script: 'bench/app.js',
      args: ['--require', '@opentelemetry/auto-instrumentations-node/register'],
      env: {
        ...common,
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance',
        OTEL_SERVICE_NAME: 'bench-c',
      },
      countSpans: true,
    },
    {
      id: 'D',
      label: '@innatural/otel, full: every request traced over OTLP, all metrics, X-Response-Time, health server',
      script: 'bench/app.js',
      args: ['--require', './register'],
      env: { ...ours, OTEL_SERVICE_NAME: 'bench-d' },
      metrics: `http://127.0.0.1:${HEALTH_PORT}/metrics`,
      countSpans: true,
    },
    {
      id: 'E',
      label: '@innatural/otel, metrics only (OTEL_TRACES_EXPORTER=none)',
      script: 'bench/app.js',
      args: ['--require', './register'],
      env: { ...ours, OTEL_TRACES_EXPORTER: 'none', OTEL_SERVICE_NAME: 'bench-e' },
      metrics: `http://127.0.0.1:${HEALTH_PORT}/metrics`,
    },
    {
      id: 'F',
      label: '@sentry/node 11 preload, tracesSampleRate 1.0',
      script: 'bench/app.js',
      args: ['--import', './bench/sentry-preload.mjs'],
      env: { ...common, BENCH_SENTRY_DSN: `http://benchkey@127.0.0.1:${sink.port}/1` },
    },
  ];
}

function startApp(variant) {
  const proc = spawn('taskset', ['-c', '1', variant.node ?? process.execPath, ...variant.args, variant.script], {
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

async function measureLoad(variant, sink) {
  sink.take();
  const app = startApp(variant);
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
      await sleep(7000); // the batch delay (5 s) plus an export
      // wrk's completed requests, plus the one readiness probe that succeeded.
      spans = { served: warm.requests + run.requests + 1, received: countServerSpans(sink.take(), variant.env.OTEL_SERVICE_NAME) };
    }
    return { ...run, cpuUsPerRequest: ((cpuAfter - cpuBefore) * (1e6 / CLK_TCK)) / run.requests, rss, scrapeMs: scrape, spans };
  } finally {
    await stop(app);
  }
}

async function startupMs(variant) {
  const t = performance.now();
  const app = startApp(variant);
  try {
    await waitReady();
    return performance.now() - t;
  } finally {
    await stop(app);
  }
}

/** Starts interleaved, variant after variant, so that drift of the machine falls on all alike. */
async function measureStartups(all) {
  const times = Object.fromEntries(all.map((v) => [v.id, []]));
  for (let i = 0; i < STARTS; i++) for (const variant of all) times[variant.id].push(await startupMs(variant));
  return Object.fromEntries(all.map((v) => [v.id, median(times[v.id])]));
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
    node: process.version,
    '@innatural/otel': `${v(REPO)} (${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim()})`,
    express: v('express'),
    '@opentelemetry/sdk-trace-base': v('@opentelemetry/sdk-trace-base'),
    '@opentelemetry/auto-instrumentations-node': v('@opentelemetry/auto-instrumentations-node'),
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
  const sink = await startSink();
  const all = variants(sink).filter((v) => !only || only.includes(v.id));
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const results = {};
    for (const variant of all) {
      results[variant.id] = await measureLoad(variant, sink);
      process.stderr.write(`round ${round} ${variant.id}: ${results[variant.id].rps.toFixed(0)} req/s\n`);
    }
    rounds.push(results);
  }
  const startup = await measureStartups(all);
  sink.close();
  const redaction = measureRedaction();

  const summary = all.map((variant) => {
    const runs = rounds.map((r) => r[variant.id]);
    const ratios = rounds.map((r) => (r.A ? r[variant.id].rps / r.A.rps : NaN));
    const d = {
      id: variant.id,
      label: variant.label,
      rps: median(runs.map((r) => r.rps)),
      ratio: median(ratios),
      p50Ms: median(runs.map((r) => r.p50)),
      p99Ms: median(runs.map((r) => r.p99)),
      cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
      startupMs: startup[variant.id],
      rssMb: median(runs.map((r) => r.rss)) / 1024 / 1024,
      scrapeMs: variant.metrics ? median(runs.map((r) => r.scrapeMs)) : undefined,
      spans: variant.countSpans ? runs.map((r) => r.spans) : undefined,
    };
    return d;
  });
  const base = summary.find((s) => s.id === 'A');
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, kernel: readFileSync('/proc/version', 'utf8').split(' ')[2] };
  const command = `npm run bench  (BENCH_ROUNDS=${ROUNDS} BENCH_DURATION_S=${DURATION_S} BENCH_WARMUP_S=${WARMUP_S} BENCH_CONNECTIONS=${CONNECTIONS} BENCH_STARTS=${STARTS})`;
  const json = { date: new Date().toISOString(), command, machine, versions: versions(), rounds: ROUNDS, results: summary, redaction, raw: rounds };
  writeFileSync(join(__dirname, 'results.json'), `${JSON.stringify(json, null, 2)}\n`);

  const f = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
  const lines = [
    '# Benchmark results',
    '',
    `${json.date.slice(0, 10)}, ${machine.cpu}, ${machine.cores} cores, Linux ${machine.kernel}. App pinned to core 1, wrk (\`-t1 -c${CONNECTIONS}\`) to core 0,`,
    `${WARMUP_S} s warm-up then ${DURATION_S} s measured, ${ROUNDS} rounds with the variants interleaved; medians. Startup: spawn to first 200, median of ${STARTS} starts interleaved across variants.`,
    '',
    '| variant | req/s | vs A | p50 ms | p99 ms | CPU µs/req | startup ms (+A) | RSS MB after load (+A) | /metrics ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...summary.map(
      (s) =>
        `| ${s.id}: ${s.label} | ${f(s.rps)} | ${f(s.ratio, 2)}x | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.cpuUsPerRequest)} | ${f(s.startupMs)} (${s.id === 'A' ? '—' : `+${f(s.startupMs - base.startupMs)}`}) | ${f(s.rssMb)} (${s.id === 'A' ? '—' : `+${f(s.rssMb - base.rssMb)}`}) | ${s.scrapeMs === undefined ? '—' : f(s.scrapeMs, 2)} |`,
    ),
    '',
    ...summary
      .filter((s) => s.spans)
      .map((s) => `Spans in ${s.id}: ${s.spans.map((x) => `${x.received} received for ${x.served} requests served`).join('; ')}.`),
    '',
    '## Redaction',
    '',
    `Redactor.text, in this process: ${f(redaction.proseUsPerKb, 1)} µs/KB of prose, ${f(redaction.jsonUsPerKb, 1)} µs/KB of a JSON log line, ${f(redaction.userAgentUs, 2)} µs per user agent;`,
    `the worst adversarial input (\`${redaction.worst.name}\`) ${f(redaction.worst.usPerKb, 1)} µs/KB, ${f(redaction.worstAtCapMs, 1)} ms at the scan cap.`,
    '',
    '## Versions',
    '',
    ...Object.entries(json.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Command',
    '',
    '```',
    command,
    '```',
    '',
  ];
  writeFileSync(join(__dirname, 'results.md'), lines.join('\n'));
  process.stdout.write(lines.join('\n'));
}

module.exports = { startSink, variants, startApp, waitReady, stop, cpuTicks, wrk, median, APP_PORT, CLK_TCK, REPO };

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`${err.stack}\n`);
    process.exitCode = 1;
  });
}
