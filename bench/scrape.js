'use strict';
/**
 * What a /metrics scrape costs in the process, without the HTTP round trip: the catalog and
 * the runtime metrics with SERIES labelled series filled (exemplars on every histogram bucket
 * observed), serialized in both exposition formats, then gzipped as the ops server does.
 * `node bench/scrape.js` alone, or as part of `npm run bench`.
 */
const { gzipSync, constants } = require('node:zlib');
const { Registry } = require('../dist/src/metrics/registry');
const { registerCatalog } = require('../dist/src/metrics/families');
const { DEFAULT_PREFIX } = require('../dist/src/metrics/catalog');
const { installRuntimeMetrics } = require('../dist/src/metrics/runtime');
const { serialize } = require('../dist/src/metrics/prometheus');
const { idPool, median } = require('./stats');

const SERIES = Number(process.env.BENCH_SCRAPE_SERIES ?? 1000);
const RUNS = Number(process.env.BENCH_SCRAPE_RUNS ?? 41);

/** Shares of SERIES per family: the HTTP pair is what grows with routes, the rest is a service's usual spread. */
const SPREAD = [
  ['httpRequestDuration', 0.4, (i) => ['GET', `/api/r${i}`, i % 7 === 0 ? '500' : '200']],
  ['httpRequests', 0.4, (i) => ['GET', `/api/r${i}`, i % 7 === 0 ? '500' : '200']],
  ['dbQueryDuration', 0.1, (i) => [`op${i}`, 'postgresql']],
  ['errors', 0.1, (i) => [`Error${i}`, 'error']],
];
const DURATIONS = [0.004, 0.03, 0.2, 0.7, 1.5, 3, 7, 12];

function filledRegistry(exemplars) {
  const registry = new Registry(SERIES * 2, exemplars);
  const catalog = registerCatalog(registry, DEFAULT_PREFIX);
  const stopRuntime = installRuntimeMetrics(registry);
  const ids = idPool(256);
  let filled = 0;
  let n = 0;
  for (const [key, share, labelsOf] of SPREAD) {
    const family = catalog[key];
    for (let i = 0; i < Math.round(SERIES * share); i++, filled++) {
      const labels = labelsOf(i);
      // Each duration lands in another bucket, so every bucket of a histogram series holds an exemplar.
      if (family.spec.type === 'histogram') for (const d of DURATIONS) family.observe(labels, d, ids[n++ % ids.length]);
      else family.inc(labels, 3, ids[n++ % ids.length]);
    }
  }
  return { registry, filled, stopRuntime };
}

function timeMs(fn) {
  const t = process.hrtime.bigint();
  const out = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, out };
}

/** Serialization of the filled registry, each format; `exemplars` false as INNATURAL_METRICS_EXEMPLARS=false leaves it. */
async function measureScrape(exemplars = true) {
  const { registry, filled, stopRuntime } = filledRegistry(exemplars);
  try {
    const collects = [];
    let families;
    for (let i = 0; i < 5; i++) {
      const t = process.hrtime.bigint();
      families = await registry.collect();
      collects.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    // Both formats share the label and value code: warm it up before either is timed.
    for (let i = 0; i < 10; i++) for (const name of ['text', 'openmetrics']) gzipSync(serialize(families, name), { level: constants.Z_BEST_SPEED });
    const format = (name) => {
      const ser = [];
      const gz = [];
      let body = '';
      let zipped = Buffer.alloc(0);
      for (let i = 0; i < RUNS; i++) {
        ({ ms: ser[i], out: body } = timeMs(() => serialize(families, name)));
        ({ ms: gz[i], out: zipped } = timeMs(() => gzipSync(body, { level: constants.Z_BEST_SPEED })));
      }
      return { serializeMs: median(ser), gzipMs: median(gz), bytes: Buffer.byteLength(body), gzipBytes: zipped.length, lines: body.split('\n').length - 1 };
    };
    const out = { series: filled, families: families.length, collectMs: median(collects.slice(1)), text: format('text'), openmetrics: format('openmetrics') };
    // What the exemplars cost in the OpenMetrics body: the same series without them.
    if (exemplars) out.openmetricsNoExemplars = (await measureScrape(false)).openmetrics;
    return out;
  } finally {
    stopRuntime();
  }
}

module.exports = { measureScrape };

if (require.main === module) {
  measureScrape().then((m) => {
    for (const f of ['text', 'openmetrics', 'openmetricsNoExemplars']) {
      const r = m[f];
      process.stdout.write(
        `${f}: ${m.series} series, ${r.lines} lines, ${(r.bytes / 1024).toFixed(0)} KiB: serialize ${r.serializeMs.toFixed(2)} ms, gzip ${r.gzipMs.toFixed(2)} ms (${(r.gzipBytes / 1024).toFixed(0)} KiB)\n`,
      );
    }
    process.stdout.write(`collect (runtime samplers): ${m.collectMs.toFixed(2)} ms\n`);
  });
}
