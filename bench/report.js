'use strict';
/**
 * From one Node version's raw rounds to its summary, its overheads against A, and issue 21's
 * and 18's targets; and the results.md text for all versions. Overheads and ratios are taken
 * within a round (the variants ran next to each other), then the median over rounds.
 */
const { median } = require('./stats');

const perRound = (rounds, fn) => median(rounds.map(fn).filter((x) => !Number.isNaN(x)));
const MB = 1024 * 1024;

function summarize(all, rounds, startup) {
  const has = (id) => all.some((v) => v.id === id);
  const cpu = (r, id) => (r[id] && r.A ? r[id].cpuUsPerRequest - r.A.cpuUsPerRequest : NaN);
  const results = all.map((variant) => {
    const runs = rounds.map((r) => r[variant.id]);
    return {
      id: variant.id,
      label: variant.label,
      rps: median(runs.map((r) => r.rps)),
      ratio: perRound(rounds, (r) => (r.A ? r[variant.id].rps / r.A.rps : NaN)),
      p50Ms: median(runs.map((r) => r.p50)),
      p99Ms: median(runs.map((r) => r.p99)),
      cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
      cpuAddedUs: perRound(rounds, (r) => cpu(r, variant.id)),
      startupMs: startup[variant.id],
      startupAddedMs: has('A') ? startup[variant.id] - startup.A : NaN,
      rssMb: median(runs.map((r) => r.rss)) / MB,
      rssAddedMb: perRound(rounds, (r) => (r.A ? (r[variant.id].rss - r.A.rss) / MB : NaN)),
      scrapeMs: variant.metrics ? median(runs.map((r) => r.scrapeMs)) : undefined,
      spans: variant.countSpans ? runs.map((r) => r.spans) : undefined,
    };
  });
  const ratio = (num, den) => perRound(rounds, (r) => cpu(r, num) / cpu(r, den));
  const comparisons = {
    oursFullVsStock: ratio('D', 'C'),
    edotVsStock: ratio('G', 'C'),
    oursFullVsEdot: ratio('D', 'G'),
    exemplarCostUs: perRound(rounds, (r) => (r.D && r.D2 ? r.D.cpuUsPerRequest - r.D2.cpuUsPerRequest : NaN)),
  };
  return { results, comparisons };
}

/** Issue 21's targets per Node version, and issue 18's serialization one; `value` NaN when its variants did not run. */
const TARGETS = [
  ['full tracing CPU µs/request added, ours (D) / stock OTel (C)', (s) => s.comparisons.oursFullVsStock, 0.2, 'x', 2],
  ['metrics only (E): CPU µs/request added', (s) => s.by.E?.cpuAddedUs, 6, 'µs', 1],
  ['start-up added, full (D)', (s) => s.by.D?.startupAddedMs, 80, 'ms', 0],
  ['start-up added, metrics only (E)', (s) => s.by.E?.startupAddedMs, 40, 'ms', 0],
  ['RSS added after load, full (D)', (s) => s.by.D?.rssAddedMb, 20, 'MB', 1],
  ['RSS added after load, metrics only (E)', (s) => s.by.E?.rssAddedMb, 20, 'MB', 1],
  ['/metrics scrape over HTTP, full (D)', (s) => s.by.D?.scrapeMs, 5, 'ms', 2],
  ['/metrics scrape over HTTP, metrics only (E)', (s) => s.by.E?.scrapeMs, 5, 'ms', 2],
  ['serialize 1,000 series, text 0.0.4 (issue 18)', (s) => s.inProcess?.scrape.text.serializeMs, 5, 'ms', 2],
  ['serialize 1,000 series, OpenMetrics with exemplars (issue 18)', (s) => s.inProcess?.scrape.openmetrics.serializeMs, 5, 'ms', 2],
];

function targets(summary) {
  const s = { ...summary, by: Object.fromEntries(summary.results.map((r) => [r.id, r])) };
  const series = summary.inProcess?.scrape.series.toLocaleString('en-US') ?? '1,000';
  return TARGETS.map(([name, value, limit, unit, digits]) => {
    const v = value(s) ?? NaN;
    return { name: name.replace('1,000', series), value: v, limit, unit, digits, met: Number.isNaN(v) ? null : v <= limit };
  });
}

const f = (n, d = 0) => (n === undefined || n === null || Number.isNaN(n) ? '—' : n.toFixed(d));
const signed = (n, d = 0) => (n === undefined || Number.isNaN(n) ? '—' : `${n >= 0 ? '+' : ''}${n.toFixed(d)}`);

function nodeSection(n) {
  const c = n.comparisons;
  const p = n.inProcess;
  const lines = [
    `## Node ${n.version}`,
    '',
    '| variant | req/s | vs A | p50 ms | p99 ms | CPU µs/req (+A) | startup ms (+A) | RSS MB after load (+A) | /metrics ms |',
    '|---|---|---|---|---|---|---|---|---|',
    ...n.results.map((s) => {
      const added = (v, d) => (s.id === 'A' ? '—' : signed(v, d));
      return `| ${s.id}: ${s.label} | ${f(s.rps)} | ${f(s.ratio, 2)}x | ${f(s.p50Ms, 2)} | ${f(s.p99Ms, 2)} | ${f(s.cpuUsPerRequest)} (${added(s.cpuAddedUs)}) | ${f(s.startupMs)} (${added(s.startupAddedMs)}) | ${f(s.rssMb)} (${added(s.rssAddedMb)}) | ${s.scrapeMs === undefined ? '—' : f(s.scrapeMs, 2)} |`;
    }),
    '',
    `CPU µs/request added over A, as ratios: ours full / stock OTel ${f(c.oursFullVsStock, 2)}, EDOT / stock OTel ${f(c.edotVsStock, 2)}, ours full / EDOT ${f(c.oursFullVsEdot, 2)}. ` +
      `Exemplars (D − D2): ${signed(c.exemplarCostUs, 1)} CPU µs/request.`,
    '',
    ...n.results
      .filter((s) => s.spans)
      .map((s) => `Spans in ${s.id}: ${s.spans.map((x) => `${x.received} received for ${x.served} requests served`).join('; ')}.`),
    ...(n.results.some((s) => s.spans) ? ['(wrk does not count the requests in flight when it stops, up to 2 × connections a run: received may exceed served by that many.)'] : []),
    '',
    '| target | measured | limit | met |',
    '|---|---|---|---|',
    ...n.targets.map((t) => `| ${t.name} | ${f(t.value, t.digits)} ${t.unit} | ≤ ${t.limit} ${t.unit} | ${t.met === null ? 'not measured' : t.met ? 'met' : '**not met**'} |`),
    '',
  ];
  if (!p) return lines;
  const r = p.record.usPerRequest;
  const row = (name, m) => `| ${name} | ${f(m.serializeMs, 2)} | ${f(m.gzipMs, 2)} | ${m.lines} | ${f(m.bytes / 1024)} KiB → ${f(m.gzipBytes / 1024)} KiB |`;
  return [
    ...lines,
    `In process (pinned to core 1): /metrics body with ${p.scrape.series} labelled series over ${p.scrape.families} families (catalog and runtime; every histogram bucket with an exemplar), median of the runs; collect (runtime samplers) ${f(p.scrape.collectMs, 2)} ms.`,
    '',
    '| format | serialize ms | gzip ms (level 1) | lines | size |',
    '|---|---|---|---|---|',
    row('text 0.0.4', p.scrape.text),
    row('OpenMetrics 1.0', p.scrape.openmetrics),
    ...(p.scrape.openmetricsNoExemplars ? [row('OpenMetrics 1.0, INNATURAL_METRICS_EXEMPLARS=false', p.scrape.openmetricsNoExemplars)] : []),
    '',
    `Recording one request (counter inc + histogram observe, the catalog's 3 HTTP labels), median of ${p.record.runs} runs of ${p.record.ops} requests:`,
    '',
    '| store | no exemplar µs | with exemplar µs |',
    '|---|---|---|',
    `| ours (metrics/registry.ts) | ${f(r.ours, 3)} | ${f(r.oursExemplars, 3)} |`,
    `| prom-client 15 (exemplars: OpenMetrics registry) | ${f(r.promClient, 3)} | ${f(r.promClientExemplars, 3)} |`,
    '',
    `Redactor.text: ${f(p.redaction.proseUsPerKb, 1)} µs/KB of prose, ${f(p.redaction.jsonUsPerKb, 1)} µs/KB of a JSON log line, ${f(p.redaction.userAgentUs, 2)} µs per user agent;`,
    `the worst adversarial input (\`${p.redaction.worst.name}\`) ${f(p.redaction.worst.usPerKb, 1)} µs/KB, ${f(p.redaction.worstAtCapMs, 1)} ms at the scan cap.`,
    '',
  ];
}

function markdown(json, settings) {
  const m = json.machine;
  return [
    '# Benchmark results',
    '',
    `${json.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, Linux ${m.kernel}. App pinned to core 1, wrk (\`-t1 -c${settings.connections}\`) to core 0,`,
    `${settings.warmupS} s warm-up then ${settings.durationS} s measured, ${settings.rounds} rounds with the variants (and Node versions) interleaved; medians. Startup: spawn to first 200, median of ${settings.starts} starts interleaved across variants.`,
    '',
    ...json.nodes.flatMap(nodeSection),
    '## Versions',
    '',
    `- node: ${json.nodes.map((n) => n.version).join(', ')}`,
    ...Object.entries(json.versions).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Command',
    '',
    '```',
    json.command,
    '```',
    '',
  ].join('\n');
}

module.exports = { summarize, targets, markdown };
