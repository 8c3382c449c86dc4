import type { Family, Series } from './registry';

/** Prometheus text exposition format 0.0.4, as prom-client and the Prometheus server read it. */
export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function serialize(families: readonly Family[]): string {
  const parts: string[] = [];
  for (const family of families) {
    const series = family.all();
    const { name, help, type, labels, buckets } = family.spec;
    // Every family is declared even with no series yet, as prom-client does: a scrape
    // always lists the same metric names.
    parts.push(`# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`);
    // A label-less family with nothing recorded still shows its zero.
    const rows = series.length > 0 || labels.length > 0 ? series : [emptySeries()];
    for (const s of rows) {
      if (type !== 'histogram') {
        parts.push(`${name}${labelSet(labels, s.labels)} ${formatValue(s.value)}\n`);
        continue;
      }
      let cumulative = 0;
      const counts = s.counts ?? [];
      for (let i = 0; i <= buckets!.length; i++) {
        cumulative += counts[i] ?? 0;
        const le = i < buckets!.length ? formatValue(buckets![i]!) : '+Inf';
        parts.push(`${name}_bucket${labelSet(labels, s.labels, le)} ${cumulative}\n`);
      }
      parts.push(`${name}_sum${labelSet(labels, s.labels)} ${formatValue(s.sum)}\n`);
      parts.push(`${name}_count${labelSet(labels, s.labels)} ${s.count}\n`);
    }
  }
  return parts.join('');
}

function emptySeries(): Series {
  return { labels: [], value: 0, counts: undefined, sum: 0, count: 0, startTimeMs: 0 };
}

function labelSet(keys: readonly string[], values: readonly string[], le?: string): string {
  if (keys.length === 0 && le === undefined) return '';
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    if (i > 0) out += ',';
    out += `${keys[i]}="${escapeLabel(values[i] ?? '')}"`;
  }
  if (le !== undefined) out += `${keys.length > 0 ? ',' : ''}le="${le}"`;
  return `${out}}`;
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
