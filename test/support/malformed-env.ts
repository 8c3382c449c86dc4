/**
 * One malformed value per variable, shared by the resolver's unit tests and by the
 * integration test that starts a real app with all of them set at once. Hence every
 * row names a different variable, and every value is a legal environment string.
 *
 * Each value must make the resolver record exactly one warning and fall back to the
 * value it uses when the variable is unset. `fallbackDescription` is the text the
 * warning gives after "using ".
 */
import type { VariableName } from '../../src/config/variables';

export interface MalformedEnvRow {
  readonly variable: VariableName;
  readonly value: string;
  readonly fallbackDescription?: string;
}

const LOCAL_DETECTORS = 'env,host,os,process,serviceinstance,container';

export const MALFORMED_ENV: ReadonlyArray<MalformedEnvRow> = [
  { variable: 'OTEL_SDK_DISABLED', value: 'yes', fallbackDescription: 'false' },
  { variable: 'OTEL_LOG_LEVEL', value: 'loud', fallbackDescription: 'info' },
  // A relative path would follow the app's working directory: refused, the default used.
  { variable: 'INNATURAL_COMPILE_CACHE', value: 'cache/dir', fallbackDescription: 'true' },
  { variable: 'OTEL_RESOURCE_ATTRIBUTES', value: '=x', fallbackDescription: 'nothing' },
  { variable: 'OTEL_NODE_RESOURCE_DETECTORS', value: 'moon', fallbackDescription: LOCAL_DETECTORS },
  { variable: 'OTEL_TRACES_EXPORTER', value: 'zipkin', fallbackDescription: 'otlp' },
  { variable: 'OTEL_METRICS_EXPORTER', value: 'statsd', fallbackDescription: 'prometheus' },
  { variable: 'OTEL_LOGS_EXPORTER', value: 'loki', fallbackDescription: 'otlp' },

  { variable: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'not a url', fallbackDescription: 'the default' },
  { variable: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/xml', fallbackDescription: 'http/protobuf' },
  { variable: 'OTEL_EXPORTER_OTLP_HEADERS', value: 'novalue', fallbackDescription: 'nothing' },
  { variable: 'OTEL_EXPORTER_OTLP_TIMEOUT', value: '0', fallbackDescription: '10000' },
  { variable: 'OTEL_EXPORTER_OTLP_COMPRESSION', value: 'brotli', fallbackDescription: 'none' },

  { variable: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', value: 'ftp://x', fallbackDescription: 'the default' },
  { variable: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', value: 'grpc-web', fallbackDescription: 'http/protobuf' },
  { variable: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', value: 'Bearer-abc123', fallbackDescription: 'nothing' },
  { variable: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', value: 'ten', fallbackDescription: '10000' },
  { variable: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', value: 'zstd', fallbackDescription: 'none' },

  { variable: 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', value: 'localhost:4318', fallbackDescription: 'the default' },
  { variable: 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', value: 'udp', fallbackDescription: 'http/protobuf' },
  { variable: 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', value: '=orphan', fallbackDescription: 'nothing' },
  { variable: 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', value: '1.5', fallbackDescription: '10000' },
  { variable: 'OTEL_EXPORTER_OTLP_METRICS_COMPRESSION', value: 'deflate', fallbackDescription: 'none' },

  { variable: 'OTEL_EXPORTER_OTLP_LOGS_ENDPOINT', value: 'http://', fallbackDescription: 'the default' },
  { variable: 'OTEL_EXPORTER_OTLP_LOGS_PROTOCOL', value: 'json', fallbackDescription: 'http/protobuf' },
  // A broken percent-escape: the only entry is dropped.
  { variable: 'OTEL_EXPORTER_OTLP_LOGS_HEADERS', value: 'k=%E0%A4%A', fallbackDescription: 'nothing' },
  // Above the 10-minute ceiling.
  { variable: 'OTEL_EXPORTER_OTLP_LOGS_TIMEOUT', value: '700000', fallbackDescription: '10000' },
  { variable: 'OTEL_EXPORTER_OTLP_LOGS_COMPRESSION', value: 'lz4', fallbackDescription: 'none' },

  { variable: 'OTEL_TRACES_SAMPLER', value: 'sometimes', fallbackDescription: 'parentbased_always_on' },
  { variable: 'OTEL_TRACES_SAMPLER_ARG', value: '1.5', fallbackDescription: '1' },
  { variable: 'OTEL_PROPAGATORS', value: 'xray', fallbackDescription: 'tracecontext,baggage' },
  // Nothing valid left: the catalog defaults apply, not "no instrumentation".
  { variable: 'OTEL_NODE_ENABLED_INSTRUMENTATIONS', value: 'everything', fallbackDescription: 'the default' },
  { variable: 'OTEL_NODE_DISABLED_INSTRUMENTATIONS', value: 'nope', fallbackDescription: 'none' },

  { variable: 'OTEL_BSP_SCHEDULE_DELAY', value: '1e9', fallbackDescription: '5000' },
  { variable: 'OTEL_BSP_EXPORT_TIMEOUT', value: '-1', fallbackDescription: '30000' },
  { variable: 'OTEL_BSP_MAX_QUEUE_SIZE', value: 'abc', fallbackDescription: '2048' },
  // Larger than the (default) queue size.
  { variable: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', value: '4096', fallbackDescription: '512' },
  { variable: 'OTEL_BLRP_SCHEDULE_DELAY', value: '12abc', fallbackDescription: '1000' },
  { variable: 'OTEL_BLRP_EXPORT_TIMEOUT', value: '0x10', fallbackDescription: '30000' },
  { variable: 'OTEL_BLRP_MAX_QUEUE_SIZE', value: '0', fallbackDescription: '2048' },
  // Beyond Number.MAX_SAFE_INTEGER.
  { variable: 'OTEL_BLRP_MAX_EXPORT_BATCH_SIZE', value: '9007199254740993', fallbackDescription: '512' },

  { variable: 'OTEL_METRIC_EXPORT_INTERVAL', value: '-5', fallbackDescription: '60000' },
  { variable: 'OTEL_METRIC_EXPORT_TIMEOUT', value: '30s', fallbackDescription: '30000' },
  { variable: 'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', value: '0', fallbackDescription: 'the default' },
  { variable: 'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', value: '-1', fallbackDescription: '128' },
  { variable: 'OTEL_SPAN_EVENT_COUNT_LIMIT', value: 'many', fallbackDescription: '128' },
  { variable: 'OTEL_SPAN_LINK_COUNT_LIMIT', value: '1,000', fallbackDescription: '128' },

  { variable: 'INNATURAL_SHUTDOWN_TIMEOUT_MS', value: 'soon', fallbackDescription: '5000' },
  { variable: 'INNATURAL_EXIT_TIMEOUT_MS', value: 'later', fallbackDescription: '1000' },
  { variable: 'INNATURAL_SKIP_LAUNCHERS', value: 'sometimes', fallbackDescription: 'true' },
  { variable: 'INNATURAL_HEALTH_PORT', value: '70000', fallbackDescription: '9464' },
  // Only separators: no path at all.
  { variable: 'INNATURAL_TRACES_IGNORE_PATHS', value: ',', fallbackDescription: 'none' },
  { variable: 'INNATURAL_APP_ROUTES', value: 'maybe', fallbackDescription: 'false' },
  { variable: 'INNATURAL_HEALTH_CACHE_MS', value: 'a while', fallbackDescription: '30000' },
  { variable: 'INNATURAL_HEALTH_CHECK_TIMEOUT_MS', value: '-1', fallbackDescription: '2000' },
  { variable: 'INNATURAL_HISTORY_INTERVAL_MS', value: '0', fallbackDescription: '5000' },
  { variable: 'INNATURAL_HEALTH_AI_KEY_ENV', value: '1 bad name', fallbackDescription: '' },
  { variable: 'INNATURAL_RESPONSE_TIME_HEADER', value: 'bad header', fallbackDescription: 'X-Response-Time' },
  { variable: 'INNATURAL_SLOW_REQUEST_MS', value: 'fast', fallbackDescription: '5000' },
  { variable: 'INNATURAL_METRICS_PREFIX', value: '9-bad', fallbackDescription: 'innatural_chatbot' },
  { variable: 'INNATURAL_METRICS_CARDINALITY_LIMIT', value: '0', fallbackDescription: '2000' },
  { variable: 'DATABASE_URL', value: 'mysql://db:3306/app', fallbackDescription: 'the default' },
  { variable: 'REDIS_URL', value: 'localhost:6379', fallbackDescription: 'the default' },
  { variable: 'SENTRY_DSN', value: 'not-a-dsn', fallbackDescription: 'the default' },
  { variable: 'SENTRY_DEBUG', value: 'yes', fallbackDescription: 'false' },
  { variable: 'SENTRY_PROFILES_SAMPLE_RATE', value: '2', fallbackDescription: '0' },
  { variable: 'INNATURAL_SENTRY_TRACES', value: 'sure', fallbackDescription: 'true' },
  { variable: 'INNATURAL_EXPRESS_LAYER_SPANS', value: 'some', fallbackDescription: 'false' },
];
