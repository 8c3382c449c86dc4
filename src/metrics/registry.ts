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
}

/** Label value of every label in the series that takes the traffic above the cap. */
export const OVERFLOW = '_overflow';

const SEP = '\u0001';

export class Family {
  private readonly byKey = new Map<string, Series>();
  private overflow: Series | undefined;

  constructor(
    readonly spec: MetricSpec,
    private readonly limit: number,
  ) {}

  inc(labels: readonly string[], by = 1): void {
    this.series(labels).value += by;
  }

  set(labels: readonly string[], value: number): void {
    this.series(labels).value = value;
  }

  observe(labels: readonly string[], value: number): void {
    const s = this.series(labels);
    const buckets = this.spec.buckets!;
    let i = 0;
    while (i < buckets.length && value > buckets[i]!) i++;
    s.counts![i]!++;
    s.sum += value;
    s.count++;
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
    };
  }
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

  constructor(readonly cardinalityLimit: number) {}

  family(spec: MetricSpec): Family {
    const family = new Family(spec, this.cardinalityLimit);
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
