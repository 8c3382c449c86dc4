/**
 * Every environment variable the package reads, in one place. The resolver and the
 * `doctor` read names from here, so a misspelt name fails to compile instead of
 * silently reading nothing.
 */
export type VariableKind =
  | 'boolean'
  | 'integer'
  | 'number'
  | 'string'
  | 'url'
  | 'enum'
  | 'list'
  | 'keyValues';

export interface VariableSpec {
  readonly kind: VariableKind;
  readonly description: string;
  /** Values are never printed, only a redacted form. */
  readonly secret?: boolean;
}

type OtlpSignalVariable<S extends string> =
  `OTEL_EXPORTER_OTLP_${S}_${'ENDPOINT' | 'PROTOCOL' | 'HEADERS' | 'TIMEOUT' | 'COMPRESSION'}`;

const otlpSignal = <S extends 'TRACES' | 'METRICS' | 'LOGS'>(signal: S) =>
  ({
  [`OTEL_EXPORTER_OTLP_${signal}_ENDPOINT`]: {
    kind: 'url',
    description: `OTLP endpoint for ${signal.toLowerCase()}, used as is`,
  },
  [`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]: {
    kind: 'enum',
    description: `OTLP protocol for ${signal.toLowerCase()}`,
  },
  [`OTEL_EXPORTER_OTLP_${signal}_HEADERS`]: {
    kind: 'keyValues',
    description: `OTLP headers for ${signal.toLowerCase()}`,
    secret: true,
  },
  [`OTEL_EXPORTER_OTLP_${signal}_TIMEOUT`]: {
    kind: 'integer',
    description: `OTLP export timeout for ${signal.toLowerCase()}, ms`,
  },
  [`OTEL_EXPORTER_OTLP_${signal}_COMPRESSION`]: {
    kind: 'enum',
    description: `OTLP compression for ${signal.toLowerCase()} (gzip|none)`,
  },
}) as Record<OtlpSignalVariable<S>, VariableSpec>;

export const VARIABLES = {
  OTEL_SDK_DISABLED: { kind: 'boolean', description: 'true: load nothing, leave the app untouched' },
  OTEL_LOG_LEVEL: { kind: 'enum', description: 'none|error|warn|info|debug|verbose|all' },
  OTEL_SERVICE_NAME: { kind: 'string', description: 'service.name (default: the app package.json name)' },
  OTEL_RESOURCE_ATTRIBUTES: { kind: 'keyValues', description: 'extra resource attributes, k=v,k2=v2' },
  OTEL_NODE_RESOURCE_DETECTORS: {
    kind: 'list',
    description: 'env,host,os,process,serviceinstance,container; cloud ones (aws,gcp,azure,alibaba) only when named',
  },
  OTEL_TRACES_EXPORTER: { kind: 'list', description: 'otlp|console|none' },
  OTEL_METRICS_EXPORTER: { kind: 'list', description: 'prometheus|otlp|console|none' },
  OTEL_LOGS_EXPORTER: { kind: 'list', description: 'otlp|console|none' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { kind: 'url', description: 'OTLP base endpoint; /v1/<signal> is appended for http' },
  OTEL_EXPORTER_OTLP_PROTOCOL: { kind: 'enum', description: 'http/protobuf|http/json|grpc' },
  OTEL_EXPORTER_OTLP_HEADERS: { kind: 'keyValues', description: 'OTLP headers, k=v,k2=v2', secret: true },
  OTEL_EXPORTER_OTLP_TIMEOUT: { kind: 'integer', description: 'OTLP export timeout, ms' },
  OTEL_EXPORTER_OTLP_COMPRESSION: { kind: 'enum', description: 'gzip|none' },
  ...otlpSignal('TRACES'),
  ...otlpSignal('METRICS'),
  ...otlpSignal('LOGS'),
  OTEL_TRACES_SAMPLER: {
    kind: 'enum',
    description: 'always_on|always_off|traceidratio|parentbased_always_on|parentbased_always_off|parentbased_traceidratio',
  },
  OTEL_TRACES_SAMPLER_ARG: { kind: 'number', description: 'ratio for the traceidratio samplers, 0..1' },
  OTEL_PROPAGATORS: { kind: 'list', description: 'tracecontext,baggage,b3,b3multi,jaeger,none' },
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: { kind: 'list', description: 'short names to enable (only these)' },
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: { kind: 'list', description: 'short names to disable' },
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: {
    kind: 'boolean',
    description: 'true: prompt and completion text on the gen_ai spans, redacted (default false: models and token counts only)',
  },
  OTEL_BSP_SCHEDULE_DELAY: { kind: 'integer', description: 'span batch delay, ms' },
  OTEL_BSP_EXPORT_TIMEOUT: { kind: 'integer', description: 'span batch export timeout, ms' },
  OTEL_BSP_MAX_QUEUE_SIZE: { kind: 'integer', description: 'span queue bound' },
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: { kind: 'integer', description: 'spans per export' },
  OTEL_BLRP_SCHEDULE_DELAY: { kind: 'integer', description: 'log batch delay, ms' },
  OTEL_BLRP_EXPORT_TIMEOUT: { kind: 'integer', description: 'log batch export timeout, ms' },
  OTEL_BLRP_MAX_QUEUE_SIZE: { kind: 'integer', description: 'log record queue bound' },
  OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: { kind: 'integer', description: 'log records per export' },
  OTEL_METRIC_EXPORT_INTERVAL: { kind: 'integer', description: 'metric push interval, ms' },
  OTEL_METRIC_EXPORT_TIMEOUT: { kind: 'integer', description: 'metric push timeout, ms' },
  OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: { kind: 'integer', description: 'max attribute value length' },
  OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: { kind: 'integer', description: 'max attributes per span' },
  OTEL_SPAN_EVENT_COUNT_LIMIT: { kind: 'integer', description: 'max events per span' },
  OTEL_SPAN_LINK_COUNT_LIMIT: { kind: 'integer', description: 'max links per span' },
  NODE_ENV: { kind: 'string', description: 'deployment.environment.name when nothing more specific is set' },
  SENTRY_ENVIRONMENT: { kind: 'string', description: 'deployment.environment.name (wins over NODE_ENV)' },
  INNATURAL_SHUTDOWN_TIMEOUT_MS: { kind: 'integer', description: 'flush budget at SIGTERM/SIGINT/crash, ms' },
  INNATURAL_EXIT_TIMEOUT_MS: { kind: 'integer', description: 'flush budget when the app’s work is done (beforeExit), ms' },
  INNATURAL_SKIP_LAUNCHERS: {
    kind: 'boolean',
    description: 'true (default): do nothing in processes that only launch the app (npm, npx, yarn, pnpm, corepack, PM2, nodemon)',
  },
  INNATURAL_COMPILE_CACHE: {
    kind: 'string',
    description: 'directory of Node’s compile cache (Node 22.1 and later), false for none (default: one per user in the temporary directory)',
  },
  INNATURAL_HEALTH_PORT: { kind: 'integer', description: 'port of the health and /metrics server' },
  INNATURAL_HEALTH_HOST: { kind: 'string', description: 'bind address of the health server' },
  INNATURAL_APP_ROUTES: { kind: 'boolean', description: 'also answer the health and metrics paths on the app’s own servers' },
  INNATURAL_METRICS_TOKEN: { kind: 'string', description: 'bearer token required on /metrics and /api/metrics/summary', secret: true },
  INNATURAL_HEALTH_CACHE_MS: { kind: 'integer', description: 'how long dependency check results are reused, ms' },
  INNATURAL_HEALTH_CHECK_TIMEOUT_MS: { kind: 'integer', description: 'timeout of each dependency check, ms' },
  INNATURAL_HEALTH_AI_KEY_ENV: {
    kind: 'string',
    description: 'name of the variable holding the AI provider key (default OPENAI_API_KEY); naming it makes the key required',
  },
  INNATURAL_HISTORY_INTERVAL_MS: { kind: 'integer', description: 'dashboard history sampling period, ms (15 min are kept)' },
  INNATURAL_RESPONSE_TIME_HEADER: { kind: 'string', description: 'response time header name (default X-Response-Time); false turns it off' },
  INNATURAL_SLOW_REQUEST_MS: { kind: 'integer', description: 'requests slower than this are logged, ms' },
  DATABASE_URL: { kind: 'url', description: 'PostgreSQL URL: enables the database health check', secret: true },
  REDIS_URL: { kind: 'url', description: 'Redis URL: enables the Redis health check', secret: true },
  OPENAI_API_KEY: { kind: 'string', description: 'AI provider key; only its presence is read (health check)', secret: true },
  INNATURAL_REDACT_KEYS: { kind: 'list', description: 'extra key patterns to redact everywhere (added to the built-in ones)' },
  INNATURAL_REDACT_PATTERNS: {
    kind: 'string',
    description: 'extra free-text patterns to redact: a regular expression, or a JSON array of them',
  },
  INNATURAL_REDACT_RAW_TEXT: {
    kind: 'list',
    description: 'sinks (spans, logs, errors, health) whose messages skip the prose passes; keys, URL credentials, key=value pairs and cards are still redacted',
  },
  SENTRY_DSN: { kind: 'url', description: 'enables Sentry: errors, and spans over its OTLP endpoint', secret: true },
  SENTRY_RELEASE: { kind: 'string', description: 'Sentry release (default: the app name@version)' },
  SENTRY_DEBUG: { kind: 'boolean', description: 'Sentry SDK debug logging' },
  SENTRY_PROFILES_SAMPLE_RATE: { kind: 'number', description: 'share of profiling sessions, 0..1 (needs @sentry/profiling-node)' },
  INNATURAL_SENTRY_TRACES: { kind: 'boolean', description: 'also send spans to Sentry (default true with a DSN)' },
  INNATURAL_METRICS_PREFIX: { kind: 'string', description: 'prefix of the catalog metric names (default innatural_chatbot)' },
  INNATURAL_METRICS_CARDINALITY_LIMIT: { kind: 'integer', description: 'series cap per metric; above it one overflow series' },
  INNATURAL_METRICS_EXEMPLARS: {
    kind: 'boolean',
    description: 'false: no exemplars (trace ids of sampled requests) on the duration histograms and request/error counters',
  },
  INNATURAL_EXPRESS_LAYER_SPANS: {
    kind: 'boolean',
    description: 'true: the stock express instrumentation, a span per middleware (default: one span per matched route)',
  },
  INNATURAL_TRACES_IGNORE_PATHS: {
    kind: 'list',
    description: 'extra incoming paths never traced, exact or ending in * for a prefix',
  },
} as const satisfies Record<string, VariableSpec>;

export type VariableName = keyof typeof VARIABLES;

/** The environment as the resolver sees it; a plain object in tests. */
export type Env = Readonly<Partial<Record<string, string | undefined>>>;
