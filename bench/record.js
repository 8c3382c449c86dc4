'use strict';
/**
 * What recording one request costs in the store (issue 18's registry choice): one counter inc
 * and one histogram observe under the catalog's 3 HTTP labels, in our registry and in
 * prom-client 15, each without and with an exemplar (the ids of a sampled span).
 * `node bench/record.js` alone, or as part of `npm run bench`.
 */
const client = require('prom-client');
const { Registry } = require('../dist/src/metrics/registry');
const { registerCatalog } = require('../dist/src/metrics/families');
const { CATALOG, DEFAULT_PREFIX } = require('../dist/src/metrics/catalog');
const { idPool, median } = require('./stats');

const OPS = Number(process.env.BENCH_RECORD_OPS ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RECORD_RUNS ?? 3);

// A handful of routes and statuses, as one service sees them; durations across the buckets.
const LABELS = ['/api/users/:id', '/api/orders', '/api/orders/:id', '/health'].flatMap((route) =>
  ['200', '404'].map((status) => ['GET', route, status]),
);
const LABEL_OBJECTS = LABELS.map(([method, route, status_code]) => ({ method, route, status_code }));
const DURATIONS = [0.004, 0.03, 0.2, 0.7, 1.5, 3, 7, 12];
const IDS = idPool(1024);
const ID_LABELS = IDS.map((ids) => ({ trace_id: ids.traceId, span_id: ids.spanId }));

function ours(exemplars) {
  const m = registerCatalog(new Registry(2000, exemplars), DEFAULT_PREFIX);
  return (i) => {
    const labels = LABELS[i & 7];
    const ids = exemplars ? IDS[i & 1023] : undefined;
    m.httpRequests.inc(labels, 1, ids);
    m.httpRequestDuration.observe(labels, DURATIONS[i & 7], ids);
  };
}

function promClient(exemplars) {
  const registry = new client.Registry(exemplars ? client.Registry.OPENMETRICS_CONTENT_TYPE : client.Registry.PROMETHEUS_CONTENT_TYPE);
  const row = (key) => ({ name: `${DEFAULT_PREFIX}_${CATALOG[key].suffix}`, help: CATALOG[key].help, labelNames: [...CATALOG[key].labels], registers: [registry], enableExemplars: exemplars });
  const total = new client.Counter(row('httpRequests'));
  const duration = new client.Histogram({ ...row('httpRequestDuration'), buckets: [...CATALOG.httpRequestDuration.buckets] });
  if (!exemplars) {
    return (i) => {
      const labels = LABEL_OBJECTS[i & 7];
      total.inc(labels);
      duration.observe(labels, DURATIONS[i & 7]);
    };
  }
  return (i) => {
    const labels = LABEL_OBJECTS[i & 7];
    const exemplarLabels = ID_LABELS[i & 1023];
    total.inc({ labels, value: 1, exemplarLabels });
    duration.observe({ labels, value: DURATIONS[i & 7], exemplarLabels });
  };
}

const CASES = [
  ['ours', () => ours(false)],
  ['oursExemplars', () => ours(true)],
  ['promClient', () => promClient(false)],
  ['promClientExemplars', () => promClient(true)],
];

/** Runs interleaved case by case, a fresh store each run: drift and GC state fall on all alike. */
function measureRecording() {
  const times = Object.fromEntries(CASES.map(([name]) => [name, []]));
  for (let run = 0; run <= RUNS; run++) {
    // The first run, shorter, only warms the JIT up.
    const ops = run === 0 ? Math.ceil(OPS / 5) : OPS;
    for (const [name, make] of CASES) {
      const record = make();
      const t = process.hrtime.bigint();
      for (let i = 0; i < ops; i++) record(i);
      if (run > 0) times[name].push(Number(process.hrtime.bigint() - t) / 1000 / ops);
    }
  }
  return { ops: OPS, runs: RUNS, usPerRequest: Object.fromEntries(CASES.map(([name]) => [name, median(times[name])])) };
}

module.exports = { measureRecording };

if (require.main === module) {
  const m = measureRecording();
  process.stdout.write(`${Object.entries(m.usPerRequest).map(([k, v]) => `${k} ${v.toFixed(3)} µs`).join(', ')} per request (counter inc + histogram observe), median of ${m.runs} × ${m.ops}\n`);
}
