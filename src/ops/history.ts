import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { CatalogMetrics } from '../metrics/families';
import type { Family } from '../metrics/registry';

export interface HistoryPoint {
  /** Epoch ms at the end of the interval. */
  readonly t: number;
  readonly requestsPerSec: number;
  /** Share of responses that were 5xx in the interval, 0..1. */
  readonly errorRatio: number;
  /** Seconds, from the interval's histogram buckets (as histogram_quantile computes them). */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly activeSessions: number;
  readonly messagesPerSec: number;
  readonly aiAvgSeconds: number;
  readonly aiTokensPerSec: number;
  readonly dbAvgSeconds: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly eventLoopLagP99Seconds: number;
}

/** A cluster primary's whole group, in place of this process's catalog and memory. */
export interface GroupSample {
  readonly catalog: CatalogMetrics;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** The worst process's. */
  readonly eventLoopLagP99Seconds: number;
}

interface Totals {
  readonly at: number;
  readonly requests: number;
  readonly errors: number;
  readonly buckets: number[];
  readonly messages: number;
  readonly ai: { sum: number; count: number };
  readonly tokens: number;
  readonly db: { sum: number; count: number };
}

function sumValues(family: Family, where: (labels: readonly string[]) => boolean = () => true): number {
  let n = 0;
  for (const s of family.all()) if (where(s.labels)) n += s.value;
  return n;
}

function sumHistogram(family: Family): { sum: number; count: number; buckets: number[] } {
  const buckets = new Array<number>((family.spec.buckets?.length ?? 0) + 1).fill(0);
  let sum = 0;
  let count = 0;
  for (const s of family.all()) {
    sum += s.sum;
    count += s.count;
    s.counts?.forEach((c, i) => (buckets[i]! += c));
  }
  return { sum, count, buckets };
}

/** histogram_quantile over per-bucket counts: linear within the bucket, the last finite bound for +Inf. */
export function quantile(q: number, bounds: readonly number[], counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const before = cumulative;
    cumulative += counts[i]!;
    if (cumulative >= rank) {
      if (i >= bounds.length) return bounds[bounds.length - 1] ?? 0;
      const lower = i === 0 ? 0 : bounds[i - 1]!;
      const upper = bounds[i]!;
      return counts[i] === 0 ? upper : lower + (upper - lower) * ((rank - before) / counts[i]!);
    }
  }
  return bounds[bounds.length - 1] ?? 0;
}

/**
 * A short in-process history for the dashboard page, so it draws trends without a
 * Prometheus: one point every `intervalMs`, the last `capacity` kept (15 min at 5 s).
 */
export class MetricsHistory {
  private readonly ring: HistoryPoint[] = [];
  private last: Totals;
  private lastWasGroup = false;
  private sampling = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly metrics: CatalogMetrics,
    readonly intervalMs = 5000,
    private readonly capacity = 180,
    /** Resolves undefined outside a cluster; asking workers takes time, so it is awaited. */
    private readonly group: () => Promise<GroupSample | undefined> = () => Promise.resolve(undefined),
  ) {
    this.last = this.totals(metrics);
  }

  start(): void {
    this.lag.enable();
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    // A read slower than the interval (workers late) must not pile up behind itself.
    if (this.sampling) return;
    this.sampling = true;
    try {
      this.sample(await this.group().catch(() => undefined));
    } finally {
      this.sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.lag.disable();
  }

  points(): readonly HistoryPoint[] {
    return this.ring;
  }

  /** undefined when the source changed (the first fork): that interval's difference means nothing. */
  sample(group?: GroupSample): HistoryPoint | undefined {
    const now = this.totals(group?.catalog ?? this.metrics);
    const prev = this.last;
    this.last = now;
    if ((group !== undefined) !== this.lastWasGroup) {
      this.lastWasGroup = group !== undefined;
      return undefined;
    }
    const seconds = Math.max(0.001, (now.at - prev.at) / 1000);
    // Never negative, whatever a cluster's workers do (one of another release may drop out of the sums).
    const requests = Math.max(0, now.requests - prev.requests);
    const delta = now.buckets.map((c, i) => Math.max(0, c - (prev.buckets[i] ?? 0)));
    const bounds = this.metrics.httpRequestDuration.spec.buckets ?? [];
    const avg = (a: { sum: number; count: number }, b: { sum: number; count: number }) =>
      a.count - b.count > 0 ? (a.sum - b.sum) / (a.count - b.count) : 0;
    const perSecond = (a: number, b: number) => Math.max(0, a - b) / seconds;
    const memory = group ? { rss: group.rssBytes, heapUsed: group.heapUsedBytes } : process.memoryUsage();
    const catalog = group?.catalog ?? this.metrics;
    const point: HistoryPoint = {
      t: now.at,
      requestsPerSec: requests / seconds,
      errorRatio: requests > 0 ? Math.max(0, now.errors - prev.errors) / requests : 0,
      p50: quantile(0.5, bounds, delta),
      p95: quantile(0.95, bounds, delta),
      p99: quantile(0.99, bounds, delta),
      activeSessions: catalog.activeSessions.all()[0]?.value ?? 0,
      messagesPerSec: perSecond(now.messages, prev.messages),
      aiAvgSeconds: avg(now.ai, prev.ai),
      aiTokensPerSec: perSecond(now.tokens, prev.tokens),
      dbAvgSeconds: avg(now.db, prev.db),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopLagP99Seconds: group ? group.eventLoopLagP99Seconds : this.lag.count > 0 ? this.lag.percentile(99) / 1e9 : 0,
    };
    this.lag.reset();
    this.ring.push(point);
    if (this.ring.length > this.capacity) this.ring.shift();
    return point;
  }

  private totals(metrics: CatalogMetrics): Totals {
    const http = sumHistogram(metrics.httpRequestDuration);
    const ai = sumHistogram(metrics.aiRequestDuration);
    const db = sumHistogram(metrics.dbQueryDuration);
    return {
      at: Date.now(),
      requests: http.count,
      errors: sumValues(metrics.httpRequests, (l) => Number(l[2]) >= 500),
      buckets: http.buckets,
      messages: sumValues(metrics.messages),
      ai: { sum: ai.sum, count: ai.count },
      tokens: sumValues(metrics.aiTokens),
      db: { sum: db.sum, count: db.count },
    };
  }
}
