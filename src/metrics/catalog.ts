/**
 * The documented metrics, as a contract: dashboards and alerts out there are written
 * against these names, labels and buckets. Views, docs and tests derive from this table.
 */
import type { MetricSpec } from './registry';

export const DEFAULT_PREFIX = 'innatural_chatbot';

export const LATENCY_BUCKETS = [0.1, 0.5, 1, 2, 5, 10] as const;
export const DB_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] as const;

/** A MetricSpec whose name is the suffix after the configurable prefix. */
export type CatalogRow = Omit<MetricSpec, 'name'> & {
  readonly suffix: string;
  /** Set only by a sampler that may not run (the health server's): no series at zero until then. */
  readonly sampled?: boolean;
};

export const CATALOG = {
  httpRequestDuration: {
    suffix: 'http_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of HTTP requests in seconds',
    labels: ['method', 'route', 'status_code'],
    buckets: LATENCY_BUCKETS,
    unit: 's',
    exemplars: true,
  },
  httpRequests: {
    suffix: 'http_requests_total',
    type: 'counter',
    help: 'Total number of HTTP requests',
    labels: ['method', 'route', 'status_code'],
    exemplars: true,
  },
  activeSessions: { suffix: 'active_sessions', type: 'gauge', help: 'Number of active chat sessions', labels: [] },
  messages: {
    suffix: 'messages_total',
    type: 'counter',
    help: 'Total number of chat messages processed',
    labels: ['role', 'language'],
  },
  aiRequestDuration: {
    suffix: 'ai_request_duration_seconds',
    type: 'histogram',
    help: 'Duration of AI provider requests in seconds',
    labels: ['model', 'status'],
    buckets: LATENCY_BUCKETS,
    unit: 's',
    exemplars: true,
  },
  aiTokens: { suffix: 'ai_tokens_total', type: 'counter', help: 'Total number of AI tokens consumed', labels: ['model', 'type'] },
  dbQueryDuration: {
    suffix: 'db_query_duration_seconds',
    type: 'histogram',
    help: 'Duration of database queries in seconds',
    labels: ['operation', 'db_system'],
    buckets: DB_BUCKETS,
    unit: 's',
    exemplars: true,
  },
  dbConnections: { suffix: 'db_connections', type: 'gauge', help: 'Database pool connections by state', labels: ['state'] },
  redisOperations: {
    suffix: 'redis_operations_total',
    type: 'counter',
    help: 'Total number of Redis operations',
    labels: ['operation', 'status'],
  },
  errors: {
    suffix: 'errors_total',
    type: 'counter',
    help: 'Total number of errors by type and severity',
    labels: ['type', 'severity'],
    exemplars: true,
  },
  productRecommendations: {
    suffix: 'product_recommendations_total',
    type: 'counter',
    help: 'Total number of product recommendations',
    labels: ['category'],
  },
  userFeedback: { suffix: 'user_feedback_total', type: 'counter', help: 'Total number of user feedback events', labels: ['type'] },
  rateLimitHits: { suffix: 'rate_limit_hits_total', type: 'counter', help: 'Total number of rate limit hits', labels: ['route'] },
  validationErrors: {
    suffix: 'validation_errors_total',
    type: 'counter',
    help: 'Total number of request validation errors',
    labels: ['route'],
  },
  // Not in the seed: what its readiness probe and checks say, so Prometheus can alert on them.
  ready: {
    suffix: 'ready',
    type: 'gauge',
    help: 'Whether the service is ready (1) or not (0), as /api/health/ready answers',
    labels: [],
    sampled: true,
    cluster: 'primary',
  },
  healthCheckUp: {
    suffix: 'health_check_up',
    type: 'gauge',
    help: 'Whether each dependency health check passes (1) or not (0)',
    labels: ['check'],
    cluster: 'primary',
  },
} as const satisfies Record<string, CatalogRow>;

export type CatalogKey = keyof typeof CATALOG;

export function catalogSpec(key: CatalogKey, prefix: string): MetricSpec {
  const row: CatalogRow = CATALOG[key];
  return {
    name: `${prefix}_${row.suffix}`,
    help: row.help,
    type: row.type,
    labels: row.labels,
    buckets: row.buckets,
    unit: row.unit,
    cluster: row.cluster,
    exemplars: row.exemplars,
  };
}
