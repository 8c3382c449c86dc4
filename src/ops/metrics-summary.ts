import type { CatalogMetrics } from '../metrics/families';
import type { Family } from '../metrics/registry';

const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

function total(family: Family, where: (labels: readonly string[]) => boolean = () => true): number {
  return family.all().reduce((n, s) => (where(s.labels) ? n + (family.spec.type === 'histogram' ? s.count : s.value) : n), 0);
}

function average(family: Family): number {
  let sum = 0;
  let count = 0;
  for (const s of family.all()) {
    sum += s.sum;
    count += s.count;
  }
  return count === 0 ? 0 : round(sum / count);
}

function byLabel(family: Family, index: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of family.all()) {
    const key = s.labels[index] ?? '';
    out[key] = (out[key] ?? 0) + s.value;
  }
  return out;
}

/** The seed's /api/metrics/summary, from the same series as /metrics. */
export function metricsSummary(m: CatalogMetrics, now = new Date()) {
  const status = (labels: readonly string[]) => Number(labels[2]);
  return {
    success: true,
    metrics: {
      requests: {
        total: total(m.httpRequests),
        success: total(m.httpRequests, (l) => status(l) < 400),
        errors: total(m.httpRequests, (l) => status(l) >= 400),
        avgDuration: average(m.httpRequestDuration),
      },
      sessions: { active: m.activeSessions.all()[0]?.value ?? 0 },
      messages: { total: total(m.messages), byRole: byLabel(m.messages, 0), byLanguage: byLabel(m.messages, 1) },
      ai: { requests: total(m.aiRequestDuration), avgDuration: average(m.aiRequestDuration), tokensUsed: total(m.aiTokens) },
      database: { connections: total(m.dbConnections), avgQueryDuration: average(m.dbQueryDuration) },
      errors: { total: total(m.errors), byType: byLabel(m.errors, 0) },
    },
    timestamp: now.toISOString(),
  };
}
