import type { Exemplar, Family, Series } from './registry';

/** Prometheus text exposition format 0.0.4, as prom-client and the Prometheus server read it. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** OpenMetrics 1.0 text, what Prometheus asks for first; the only one of the two with exemplars. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export type ExpositionFormat = 'text' | 'openmetrics';

/**
 * The families in either text format. OpenMetrics differs where prom-client's does: a counter's
 * family name drops `_total` on `# HELP`/`# TYPE` while its sample keeps it (a counter without the
 * suffix gains it on the sample), counter and bucket samples carry their exemplar, the body ends in
 * `# EOF`; there is no `# UNIT` (its rule that the name end in the unit would rename the seed's metrics).
 */
export function serialize(families: readonly Family[], format: ExpositionFormat = 'text'): string {
  const om = format === 'openmetrics';
  const parts: string[] = [];
  for (const family of families) {
    const series = family.all();
    const { name, help, type, labels, buckets } = family.spec;
    // Every family is declared even with no series yet, as prom-client does: a scrape
    // always lists the same metric names.
    const declared = om && type === 'counter' ? name.replace(/_total$/, '') : name;
    parts.push(`# HELP ${declared} ${om ? escapeOpenMetricsHelp(help) : escapeHelp(help)}\n# TYPE ${declared} ${type}\n`);
    const sample = om && type === 'counter' ? `${declared}_total` : name;
    // A label-less family with nothing recorded still shows its zero.
    const rows = series.length > 0 || labels.length > 0 ? series : [emptySeries()];
    for (const s of rows) {
      // The series' labels are written once; each bucket line only adds its `le`.
      const open = labelsOpen(labels, s.labels);
      const set = open === '' ? '' : `${open}}`;
      if (type !== 'histogram') {
        parts.push(`${sample}${set} ${formatValue(s.value)}${om ? exemplarOf(s.exemplars?.[0]) : ''}\n`);
        continue;
      }
      const bucketOpen = `${name}_bucket${open === '' ? '{' : `${open},`}le="`;
      let cumulative = 0;
      const counts = s.counts ?? [];
      for (let i = 0; i <= buckets!.length; i++) {
        cumulative += counts[i] ?? 0;
        const le = i < buckets!.length ? formatValue(buckets![i]!) : '+Inf';
        parts.push(`${bucketOpen}${le}"} ${cumulative}${om ? exemplarOf(s.exemplars?.[i]) : ''}\n`);
      }
      parts.push(`${name}_sum${set} ${formatValue(s.sum)}\n`);
      parts.push(`${name}_count${set} ${s.count}\n`);
    }
  }
  if (om) parts.push('# EOF\n');
  return parts.join('');
}

/** ` # {trace_id="…",span_id="…"} value timestamp`: ids are hex from the span context, never escaped. */
function exemplarOf(e: Exemplar | undefined): string {
  if (!e) return '';
  return ' # {trace_id="' + e.traceId + '",span_id="' + e.spanId + '"} ' + formatValue(e.value) + ' ' + seconds(e.timeMs);
}

/** Unix seconds with milliseconds, from integer arithmetic: toFixed costs more than the rest of an exemplar line. */
function seconds(timeMs: number): string {
  const ms = Math.round(timeMs) % 1000;
  return `${(Math.round(timeMs) - ms) / 1000}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}`;
}

function emptySeries(): Series {
  return { labels: [], value: 0, counts: undefined, sum: 0, count: 0, startTimeMs: 0, exemplars: undefined };
}

/** `{k="v",...` without the closing brace; '' for no labels. */
function labelsOpen(keys: readonly string[], values: readonly string[]): string {
  if (keys.length === 0) return '';
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `${keys[i]}="${escapeLabel(values[i] ?? '')}"`;
  }
  return out;
}

export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n') : value;
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** OpenMetrics escapes double quotes in HELP too. */
function escapeOpenMetricsHelp(help: string): string {
  return escapeHelp(help).replace(/"/g, '\\"');
}
