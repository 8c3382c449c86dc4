'use strict';
/** The setups npm run bench compares, all on the same Express app; `metrics` is the URL to scrape. */
const { peerDir } = require('./peers');

const CLOUD_FREE_DETECTORS = 'env,host,os,process,serviceinstance';

function variants(sink, ports) {
  const common = { PORT: String(ports.app), PATH: process.env.PATH, HOME: process.env.HOME ?? '/root' };
  const ours = {
    ...common,
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    INNATURAL_HEALTH_PORT: String(ports.health),
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    OTEL_LOG_LEVEL: 'warn',
  };
  // Peers export traces only, to the sink, and never probe a cloud's metadata address.
  const peer = (service) => ({
    ...common,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_NODE_RESOURCE_DETECTORS: CLOUD_FREE_DETECTORS,
    OTEL_SERVICE_NAME: service,
  });
  const healthMetrics = `http://127.0.0.1:${ports.health}/metrics`;
  // Our preload, in the setup `env` adds to the common one; scraped on its health server.
  const preloaded = (id, label, env, extra = {}) => ({
    id,
    label: `@innatural/otel, ${label}`,
    script: 'bench/app.js',
    args: ['--require', './register'],
    env: { ...ours, ...env, OTEL_SERVICE_NAME: `bench-${id.toLowerCase()}` },
    metrics: healthMetrics,
    ...extra,
  });
  return [
    { id: 'A', label: 'no instrumentation', script: 'bench/app.js', args: [], env: common },
    { id: 'B', label: 'seed style: prom-client + response-time', script: 'bench/seed-style.js', args: [], env: common, metrics: `http://127.0.0.1:${ports.app}/metrics` },
    {
      id: 'C',
      label: 'stock @opentelemetry/auto-instrumentations-node/register, traces over OTLP',
      script: 'bench/app.js',
      args: ['--require', '@opentelemetry/auto-instrumentations-node/register'],
      env: peer('bench-c'),
      countSpans: true,
    },
    preloaded('D', 'full: every request traced over OTLP, all metrics with exemplars, X-Response-Time, health server', {}, { countSpans: true }),
    preloaded('D2', 'full without exemplars (INNATURAL_METRICS_EXEMPLARS=false)', { INNATURAL_METRICS_EXEMPLARS: 'false' }, { countSpans: true }),
    preloaded('E', 'metrics only (OTEL_TRACES_EXPORTER=none)', { OTEL_TRACES_EXPORTER: 'none' }),
    {
      id: 'F',
      label: '@sentry/node 11 preload, tracesSampleRate 1.0',
      script: 'bench/app.js',
      args: ['--import', './bench/sentry-preload.mjs'],
      env: { ...common, BENCH_SENTRY_DSN: `http://benchkey@127.0.0.1:${sink.port}/1` },
    },
    {
      id: 'G',
      label: 'EDOT Node (@elastic/opentelemetry-node, --require), traces over OTLP',
      script: 'bench/app.js',
      // Resolved lazily: only a run that includes G installs EDOT.
      get args() {
        return ['--require', peerDir('@elastic/opentelemetry-node')];
      },
      // No OpAMP endpoint: EDOT's central configuration stays off.
      env: peer('bench-g'),
      countSpans: true,
    },
  ];
}

/**
 * BENCH_BASELINE: the same variants of ours run with another checkout's preload (its register.js,
 * its dist/ and node_modules), as `D0`, `E0`..., interleaved with ours, for before/after figures.
 */
function withBaseline(chosen, baseline = process.env.BENCH_BASELINE) {
  if (!baseline) return chosen;
  const { join } = require('node:path');
  const copies = chosen
    .filter((v) => v.args.includes('./register'))
    .map((v) => ({ ...v, id: `${v.id}0`, label: `${v.label} [baseline ${baseline}]`, args: v.args.map((a) => (a === './register' ? join(baseline, 'register.js') : a)) }));
  return [...chosen, ...copies];
}

module.exports = { variants, withBaseline };
