import { CATALOG, DEFAULT_PREFIX, catalogSpec, type CatalogKey } from './catalog';

const SOURCES: Record<CatalogKey, string> = {
  httpRequestDuration: 'every request the app’s HTTP servers answer (Node diagnostics channels)',
  httpRequests: 'same',
  activeSessions: '`setActiveSessions(n)`, `sessionStarted()`, `sessionEnded()`',
  messages: '`trackChatMessage(role, language)`',
  aiRequestDuration: 'openai client calls (gen_ai spans) and `trackAIRequest(...)` for other providers',
  aiTokens: 'same, from the response usage',
  dbQueryDuration: 'pg and mysql2 client calls (db spans)',
  dbConnections: 'pg pools, sampled at each scrape',
  redisOperations: 'ioredis and node-redis commands (db spans)',
  errors: '5xx responses, uncaught exceptions (`fatal`), `recordError(type, severity)`',
  productRecommendations: '`recordProductRecommendation(category)`',
  userFeedback: '`recordUserFeedback(type)`',
  rateLimitHits: 'every 429 response, and `recordRateLimitHit(route)`',
  validationErrors: '`recordValidationError(route)`',
  ready: 'the readiness decision of `/api/health/ready`, sampled at each scrape (health server on)',
  healthCheckUp: 'each check of `/api/health` (built-in and `registerHealthCheck`), sampled at each scrape',
};

/** docs/metrics.md, generated from the catalog so the two cannot drift (a test compares them). */
export function renderMetricsDoc(): string {
  const rows = (Object.keys(CATALOG) as CatalogKey[]).map((key) => {
    const spec = catalogSpec(key, DEFAULT_PREFIX);
    const type = spec.buckets ? `histogram (${spec.buckets.join(', ')})` : spec.type;
    const labels = spec.labels.length > 0 ? spec.labels.join(', ') : '—';
    return `| \`${spec.name}\` | ${type} | ${labels} | ${spec.exemplars ? 'yes' : '—'} | ${SOURCES[key]} |`;
  });
  return [
    '# Metrics',
    '',
    '<!-- Generated from src/metrics/catalog.ts by `npm run docs:metrics`; test/metrics/docs.test.ts fails when it drifts. -->',
    '',
    `Names use the prefix \`${DEFAULT_PREFIX}\` (\`INNATURAL_METRICS_PREFIX\` changes it). The same names go to`,
    '`/metrics` and, with `OTEL_METRICS_EXPORTER=otlp`, over OTLP.',
    '',
    '| name | type (buckets, seconds) | labels | exemplars | filled from |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    '- `route` is the matched route template (`/api/users/:id`); requests that matched no route share `unmatched`.',
    '  Methods outside the HTTP standard share `_OTHER`.',
    '- Every metric is capped at `INNATURAL_METRICS_CARDINALITY_LIMIT` series (default 2000); above it, new label',
    '  sets go to one series whose labels are all `_overflow`.',
    '- Counting does not depend on trace sampling: the client spans metrics come from are recorded even when the',
    '  trace is dropped.',
    '',
    '## Formats and exemplars',
    '',
    '`/metrics` answers in the format the scraper asks for in `Accept`: OpenMetrics 1.0 text',
    '(`application/openmetrics-text; version=1.0.0`) when it prefers it, as Prometheus does by default, and the',
    'Prometheus text format 0.0.4 otherwise (no `Accept`, `text/plain`, `*/*`, anything unknown or malformed).',
    'Both carry the same names, labels and values. Where OpenMetrics differs, it follows prom-client:',
    '',
    '- a counter is declared without `_total` (`# TYPE innatural_chatbot_http_requests counter`) and its sample',
    '  keeps the name above (`innatural_chatbot_http_requests_total{...}`); a counter whose name lacks the',
    '  suffix gains it on the sample, as OpenMetrics requires;',
    '- the body ends in `# EOF`; there is no `# UNIT` line (OpenMetrics would then require every name to end in',
    '  its unit); no `_created` samples;',
    '- `gzip` when `Accept-Encoding` allows it; `Vary: Accept, Accept-Encoding`.',
    '',
    'Exemplars appear in OpenMetrics only (the 0.0.4 format has no syntax for them) and over OTLP, on the rows',
    'marked above: each bucket of a histogram series, and each counter series, keeps the trace and span id of the',
    'latest **sampled** span recorded into it, with its value and time: `... 3 # {trace_id="…",span_id="…"} 0.42',
    '1764633600.123`. At most one per bucket, so memory stays within the cardinality cap; the labels are the two',
    'ids only. HTTP exemplars are the server span of the request; database and AI ones the client span.',
    'Over OTLP (http/protobuf, http/json and gRPC) they are the data points\' `exemplars`, a histogram point\'s in',
    'bucket order, each with `time_unix_nano`, `as_double`, `span_id` and `trace_id` and no filtered attributes.',
    '`INNATURAL_METRICS_EXEMPLARS=false` turns them off. `/api/metrics/slowest` lists the slowest recent ones',
    '(15 minutes) for the dashboard.',
    '',
    'Checked against real parsers (`test/metrics/openmetrics.test.ts`): `promtool check metrics` on the 0.0.4 text,',
    'and Prometheus 2.42’s own OpenMetrics parser, scraping with `--enable-feature=exemplar-storage` and returning the',
    'exemplars from `/api/v1/query_exemplars`.',
    '',
    'Runtime metrics carry prom-client’s default names, unprefixed (`process_resident_memory_bytes`,',
    '`process_cpu_seconds_total`, `nodejs_eventloop_lag_seconds`, `nodejs_gc_duration_seconds`, ...): the same set',
    'as `collectDefaultMetrics()`, checked against prom-client by a test.',
    '',
    'In a `node:cluster` group the primary’s `/metrics` answers for every worker (README, “Cluster and PM2”):',
    'counters and histograms are summed; `active_sessions` and `db_connections` are summed; `ready` and',
    '`health_check_up` are the group’s, as its probes answer; every runtime gauge gets a `worker` label (the',
    'cluster worker id, or `primary`). Only there: `innatural_chatbot_cluster_workers{state="running"|"reporting"}`',
    'and `innatural_chatbot_cluster_worker_exits_total`.',
    '',
  ].join('\n');
}

if (require.main === module) process.stdout.write(renderMetricsDoc());
