/**
 * A registry's families as plain data, for a cluster worker to send to its primary over the
 * IPC channel. The channel serialises with JSON, which turns NaN and ±Infinity into null
 * (`process_max_fds` is +Inf with no limit), so those travel as the strings of the text format.
 * The primary validates what it reads: a worker may run another release of the package.
 */
import { formatValue } from './prometheus';
import { validIds } from '../export/exemplars';
import { exemplarSlots, type Exemplar, type Family, type GaugeAggregation, type MetricSpec, type MetricType } from './registry';

type WireNumber = number | string;

/** An exemplar as [traceId, spanId, value, timeMs]; null for a bucket without one. */
export type ExemplarSnapshot = readonly [string, string, WireNumber, number] | null;

/**
 * `v` for counters and gauges; `c` (per-bucket counts, +Inf last), `s` and `n` for histograms;
 * `e`, exemplars by bucket (one for a counter), when the series has any.
 */
export interface SeriesSnapshot {
  readonly l: readonly string[];
  readonly v?: WireNumber;
  readonly c?: readonly number[];
  readonly s?: WireNumber;
  readonly n?: number;
  readonly e?: readonly ExemplarSnapshot[];
}

export interface FamilySnapshot {
  readonly spec: MetricSpec;
  readonly series: readonly SeriesSnapshot[];
}

export function snapshotOf(families: readonly Family[]): FamilySnapshot[] {
  return families.map((family) => ({
    spec: family.spec,
    series: family.all().map((s) => {
      const e = s.exemplars?.map((x) => (x ? ([x.traceId, x.spanId, wire(x.value), x.timeMs] as const) : null));
      const base = family.spec.type === 'histogram' ? { l: s.labels, c: s.counts, s: wire(s.sum), n: s.count } : { l: s.labels, v: wire(s.value) };
      return e ? { ...base, e } : base;
    }),
  }));
}

/** The exemplars of a snapshot's series, by bucket. */
export function exemplarsOf(s: SeriesSnapshot): Array<{ bucket: number; exemplar: Exemplar }> {
  const out: Array<{ bucket: number; exemplar: Exemplar }> = [];
  s.e?.forEach((x, bucket) => {
    if (x) out.push({ bucket, exemplar: { traceId: x[0], spanId: x[1], value: numberOf(x[2]), timeMs: x[3] } });
  });
  return out;
}

function wire(n: number): WireNumber {
  return Number.isFinite(n) ? n : formatValue(n);
}

export function numberOf(n: WireNumber | undefined): number {
  if (typeof n === 'number') return n;
  if (n === '+Inf') return Infinity;
  if (n === '-Inf') return -Infinity;
  return NaN;
}

const TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram'];
const AGGREGATIONS: readonly GaugeAggregation[] = ['sum', 'worker', 'primary'];
/** Far above what the catalog and runtime register; a bound on what a confused sender can make us hold. */
const MAX_FAMILIES = 1000;

const isString = (v: unknown): v is string => typeof v === 'string';
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => typeof n === 'number');
const isWireNumber = (v: unknown): v is WireNumber => typeof v === 'number' || v === 'NaN' || v === '+Inf' || v === '-Inf';

function readSpec(raw: unknown): MetricSpec | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!isString(r.name) || !isString(r.help) || !TYPES.includes(r.type as MetricType) || !isStrings(r.labels)) return undefined;
  if (r.type === 'histogram' && !isNumbers(r.buckets)) return undefined;
  return {
    name: r.name,
    help: r.help,
    type: r.type as MetricType,
    labels: r.labels,
    buckets: r.type === 'histogram' ? (r.buckets as number[]) : undefined,
    unit: isString(r.unit) ? r.unit : undefined,
    cluster: AGGREGATIONS.includes(r.cluster as GaugeAggregation) ? (r.cluster as GaugeAggregation) : undefined,
    exemplars: r.exemplars === true ? true : undefined,
  };
}

/** Exemplars that do not hold ids of the W3C shape, or do not fit the buckets, are dropped: they are written out as they are. */
function readExemplars(spec: MetricSpec, raw: unknown): ExemplarSnapshot[] | undefined {
  if (!Array.isArray(raw) || raw.length !== exemplarSlots(spec) || spec.type === 'gauge') return undefined;
  return raw.map((x: unknown) =>
    Array.isArray(x) && x.length === 4 && validIds(x[0], x[1]) && isWireNumber(x[2]) && typeof x[3] === 'number' && Number.isFinite(x[3])
      ? ([x[0], x[1], x[2], x[3]] as const)
      : null,
  );
}

function readSeries(spec: MetricSpec, raw: unknown): SeriesSnapshot | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Record<string, unknown>;
  if (!isStrings(r.l) || r.l.length !== spec.labels.length) return undefined;
  const e = readExemplars(spec, r.e);
  const withExemplars = <T extends SeriesSnapshot>(x: T): T => (e ? { ...x, e } : x);
  if (spec.type !== 'histogram') return isWireNumber(r.v) ? withExemplars({ l: r.l, v: r.v }) : undefined;
  if (!isNumbers(r.c) || r.c.length !== spec.buckets!.length + 1 || !isWireNumber(r.s) || typeof r.n !== 'number') return undefined;
  return withExemplars({ l: r.l, c: r.c, s: r.s, n: r.n });
}

/** What arrived, minus whatever is malformed; undefined when it is not a snapshot at all. */
export function readSnapshot(raw: unknown): FamilySnapshot[] | undefined {
  if (!Array.isArray(raw)) return undefined;
  const out: FamilySnapshot[] = [];
  for (const rawFamily of raw.slice(0, MAX_FAMILIES)) {
    const spec = readSpec((rawFamily as { spec?: unknown } | null)?.spec);
    const rawSeries = (rawFamily as { series?: unknown }).series;
    if (!spec || !Array.isArray(rawSeries)) continue;
    const series: SeriesSnapshot[] = [];
    for (const s of rawSeries) {
      const read = readSeries(spec, s);
      if (read) series.push(read);
    }
    out.push({ spec, series });
  }
  return out;
}
