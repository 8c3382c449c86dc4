import { validIds, type PointExemplar } from '../export/exemplars';
/**
 * The in-process store behind /metrics and the OTLP metric producer. Not sdk-metrics:
 * recording a request through it costs ~9 µs (attribute hashing, views, storage
 * lookups); a Map lookup by a joined label key costs well under one. Every family is
 * capped, so hostile traffic cannot grow memory without bound.
 */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * How a cluster's primary combines a gauge across its processes; counters and histograms
 * are always summed. `sum` (prom-client's default) where the total means something (sessions,
 * pool connections); `worker`, one series per process under a `worker` label, where it does
 * not (memory, event-loop lag: a sum or a mean would hide the one worker in trouble);
 * `primary`, the primary's own value, which it computes for the whole group (readiness).
 */
export type GaugeAggregation = 'sum' | 'worker' | 'primary';

export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly labels: readonly string[];
  /** Upper bounds, ascending; histograms only. */
  readonly buckets?: readonly number[];
  /** UCUM unit for OTLP ('s', 'By', '1'); Prometheus names carry theirs already. */
  readonly unit?: string;
  /** Gauges only; `sum` when absent. */
  readonly cluster?: GaugeAggregation;
  /** Counters and histograms: keeps the ids of a recent sampled span per bucket (see Exemplar). */
  readonly exemplars?: boolean;
}

/** The span a recording came from (an OTel SpanContext fits); only a sampled one is kept, so that its trace can be found. */
export interface SpanIds {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags?: number;
}

/**
 * The latest sampled recording of one bucket (of a counter: of the series): at most one per
 * bucket, so exemplars cost no more memory than the buckets themselves under the cardinality cap.
 * Ids only: an exemplar's labels are never anything a user sent.
 */
export type Exemplar = PointExemplar;

/** How many exemplar slots a series of this spec has: one per bucket (+Inf last), one for a counter. */
export function exemplarSlots(spec: MetricSpec): number {
  return spec.type === 'histogram' ? spec.buckets!.length + 1 : 1;
}

export interface Series {
  readonly labels: readonly string[];
  /** Counter and gauge value. */
  value: number;
  /** Histogram: per-bucket (not cumulative) counts, the last one for +Inf. */
  readonly counts: number[] | undefined;
  sum: number;
  count: number;
  readonly startTimeMs: number;
  /** Histograms: one slot per bucket (+Inf last); counters: one. Allocated with the first exemplar. */
  exemplars: Array<Exemplar | undefined> | undefined;
}

/** Label value of every label in the series that takes the traffic above the cap. */
export const OVERFLOW = '_overflow';

const SEP = '\u0001';

export class Family {
  private readonly byKey = new Map<string, Series>();
  private overflow: Series | undefined;
  /** Whether recordings given span ids keep them: the spec asks for exemplars and they are on. */
  readonly keepsExemplars: boolean;

  constructor(
    readonly spec: MetricSpec,
    private readonly limit: number,
    exemplars = true,
  ) {
    this.keepsExemplars = exemplars && spec.exemplars === true && spec.type !== 'gauge';
  }

  inc(labels: readonly string[], by = 1, ids?: SpanIds): void {
    const s = this.series(labels);
    s.value += by;
    if (ids && this.keepsExemplars && sampled(ids)) keep(s, 0, exemplarSlots(this.spec), ids, by);
  }

  set(labels: readonly string[], value: number): void {
    this.series(labels).value = value;
  }

  observe(labels: readonly string[], value: number, ids?: SpanIds): void {
    const s = this.series(labels);
    const buckets = this.spec.buckets!;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    s.counts![i]!++;
    s.sum += value;
    s.count++;
    if (ids && this.keepsExemplars && sampled(ids)) keep(s, i, exemplarSlots(this.spec), ids, value);
  }

  /** Another process's exemplar for one bucket: the newer one stays. */
  addExemplar(labels: readonly string[], bucket: number, exemplar: Exemplar): void {
    if (!this.keepsExemplars) return;
    const s = this.series(labels);
    const slots = exemplarSlots(this.spec);
    if (bucket < 0 || bucket >= slots) return;
    const current = s.exemplars?.[bucket];
    if (current && current.timeMs >= exemplar.timeMs) return;
    s.exemplars ??= new Array<Exemplar | undefined>(slots).fill(undefined);
    s.exemplars[bucket] = exemplar;
  }

  /** Adds another process's histogram series (same buckets) into this one. */
  addHistogram(labels: readonly string[], counts: readonly number[], sum: number, count: number): void {
    const s = this.series(labels);
    for (let i = 0; i < s.counts!.length; i++) s.counts![i]! += counts[i] ?? 0;
    s.sum += sum;
    s.count += count;
  }

  /** For gauges recomputed at each collection: drop series that no longer exist. */
  clear(): void {
    this.byKey.clear();
    this.overflow = undefined;
  }

  all(): Series[] {
    const out = [...this.byKey.values()];
    if (this.overflow) out.push(this.overflow);
    return out;
  }

  get size(): number {
    return this.byKey.size + (this.overflow ? 1 : 0);
  }

  private series(labels: readonly string[]): Series {
    const key = keyOf(labels);
    let s = this.byKey.get(key);
    if (s) return s;
    if (this.byKey.size >= this.limit) {
      this.overflow ??= this.create(this.spec.labels.map(() => OVERFLOW));
      return this.overflow;
    }
    s = this.create(labels);
    this.byKey.set(key, s);
    return s;
  }

  private create(labels: readonly string[]): Series {
    const buckets = this.spec.buckets;
    return {
      labels: [...labels],
      value: 0,
      counts: buckets ? new Array<number>(buckets.length + 1).fill(0) : undefined,
      sum: 0,
      count: 0,
      startTimeMs: Date.now(),
      exemplars: undefined,
    };
  }
}

/** The last ids found valid: a request records its span into two or three families in a row. */
let lastValid: SpanIds | undefined;

/**
 * W3C trace flags' sampled bit (an unsampled span's trace was never exported), and ids of the
 * W3C shape: they are written into the exposition as they are, and a propagator may be the app's.
 */
function sampled(ids: SpanIds): boolean {
  if (((ids.traceFlags ?? 0) & 1) !== 1) return false;
  if (ids === lastValid) return true;
  if (!validIds(ids.traceId, ids.spanId)) return false;
  lastValid = ids;
  return true;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Overwrites the bucket's exemplar in place once it has one: readers copy what they take
 * (snapshots, OTLP points, the slowest list) within the same tick, and a request per bucket
 * then allocates nothing.
 */
function keep(s: Series, bucket: number, slots: number, ids: SpanIds, value: number): void {
  s.exemplars ??= new Array<Exemplar | undefined>(slots).fill(undefined);
  const e = s.exemplars[bucket] as Mutable<Exemplar> | undefined;
  if (!e) {
    s.exemplars[bucket] = { traceId: ids.traceId, spanId: ids.spanId, value, timeMs: Date.now() };
    return;
  }
  e.traceId = ids.traceId;
  e.spanId = ids.spanId;
  e.value = value;
  e.timeMs = Date.now();
}

function keyOf(labels: readonly string[]): string {
  if (labels.length === 0) return '';
  if (labels.length === 1) return labels[0]!;
  // A value holding the separator would make two label sets share a key; those (rare) get an unambiguous one.
  for (const label of labels) if (label.includes(SEP)) return `\u0002${JSON.stringify(labels)}`;
  return labels.join(SEP);
}

export type Collector = () => void | Promise<void>;

export class Registry {
  readonly families: Family[] = [];
  private readonly collectors: Collector[] = [];

  /** `exemplars`: INNATURAL_METRICS_EXEMPLARS; families whose spec asks for them keep them. */
  constructor(
    readonly cardinalityLimit: number,
    readonly exemplars = true,
  ) {}

  family(spec: MetricSpec): Family {
    const family = new Family(spec, this.cardinalityLimit, this.exemplars);
    this.families.push(family);
    return family;
  }

  /** Runs before every read (scrape or push), for values that are sampled rather than recorded. */
  onCollect(collector: Collector): void {
    this.collectors.push(collector);
  }

  async collect(): Promise<readonly Family[]> {
    await Promise.all(
      this.collectors.map(async (c) => {
        try {
          await c();
        } catch {
          // one broken sampler must not blank the whole scrape
        }
      }),
    );
    return this.families;
  }
}
