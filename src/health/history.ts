import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { CatalogMetrics } from '../metrics/catalog-metrics';
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
  private timer: NodeJS.Timeout | undefined;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly metrics: CatalogMetrics,
    readonly intervalMs = 5000,
    private readonly capacity = 180,
  ) {
    this.last = this.totals();
  }

  start(): void {
    this.lag.enable();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.lag.disable();
  }

  points(): readonly HistoryPoint[] {
    return this.ring;
  }

  sample(): HistoryPoint {
    const now = this.totals();
    const prev = this.last;
    this.last = now;
    const seconds = Math.max(0.001, (now.at - prev.at) / 1000);
    const requests = now.requests - prev.requests;
    const delta = now.buckets.map((c, i) => c - (prev.buckets[i] ?? 0));
    const bounds = this.metrics.httpRequestDuration.spec.buckets ?? [];
    const avg = (a: { sum: number; count: number }, b: { sum: number; count: number }) =>
      a.count - b.count > 0 ? (a.sum - b.sum) / (a.count - b.count) : 0;
    const memory = process.memoryUsage();
    const point: HistoryPoint = {
      t: now.at,
      requestsPerSec: requests / seconds,
      errorRatio: requests > 0 ? (now.errors - prev.errors) / requests : 0,
      p50: quantile(0.5, bounds, delta),
      p95: quantile(0.95, bounds, delta),
      p99: quantile(0.99, bounds, delta),
      activeSessions: this.metrics.activeSessions.all()[0]?.value ?? 0,
      messagesPerSec: (now.messages - prev.messages) / seconds,
      aiAvgSeconds: avg(now.ai, prev.ai),
      aiTokensPerSec: (now.tokens - prev.tokens) / seconds,
      dbAvgSeconds: avg(now.db, prev.db),
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      eventLoopLagP99Seconds: this.lag.count > 0 ? this.lag.percentile(99) / 1e9 : 0,
    };
    this.lag.reset();
    this.ring.push(point);
    if (this.ring.length > this.capacity) this.ring.shift();
    return point;
  }

  private totals(): Totals {
    const http = sumHistogram(this.metrics.httpRequestDuration);
    const ai = sumHistogram(this.metrics.aiRequestDuration);
    const db = sumHistogram(this.metrics.dbQueryDuration);
    return {
      at: Date.now(),
      requests: http.count,
      errors: sumValues(this.metrics.httpRequests, (l) => Number(l[2]) >= 500),
      buckets: http.buckets,
      messages: sumValues(this.metrics.messages),
      ai: { sum: ai.sum, count: ai.count },
      tokens: sumValues(this.metrics.aiTokens),
      db: { sum: db.sum, count: db.count },
    };
  }
}
