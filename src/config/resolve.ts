import { EnvReader, type ConfigWarning } from './parse';
import type { Env } from './variables';
import { INSTRUMENTATION_NAMES, type InstrumentationName } from './instrumentations';
import { REDACTION_SINKS, type RedactionSettings } from '../redaction/policy';

export const LOG_LEVELS = ['none', 'error', 'warn', 'info', 'debug', 'verbose', 'all'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof SAMPLERS)[number];

export const PROPAGATORS = ['tracecontext', 'baggage', 'b3', 'b3multi', 'jaeger', 'none'] as const;
export type PropagatorName = (typeof PROPAGATORS)[number];

export const LOCAL_DETECTORS = ['env', 'host', 'os', 'process', 'serviceinstance', 'container'] as const;
export const CLOUD_DETECTORS = ['alibaba', 'aws', 'azure', 'gcp'] as const;
export type DetectorName = (typeof LOCAL_DETECTORS)[number] | (typeof CLOUD_DETECTORS)[number];

const TRACE_EXPORTERS = ['otlp', 'console', 'none'] as const;
const METRIC_EXPORTERS = ['prometheus', 'otlp', 'console', 'none'] as const;
const LOG_EXPORTERS = ['otlp', 'console', 'none'] as const;
export type TraceExporterName = Exclude<(typeof TRACE_EXPORTERS)[number], 'none'>;
export type MetricExporterName = Exclude<(typeof METRIC_EXPORTERS)[number], 'none'>;
export type LogExporterName = Exclude<(typeof LOG_EXPORTERS)[number], 'none'>;

export type Signal = 'traces' | 'metrics' | 'logs';

export interface OtlpConfig {
  readonly protocol: OtlpProtocol;
  /** Full URL: for http it already ends in /v1/<signal>. */
  readonly endpoint: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
}

export interface BatchConfig {
  readonly scheduleDelayMs: number;
  readonly exportTimeoutMs: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

export interface ResolvedConfig {
  readonly disabled: boolean;
  readonly logLevel: LogLevel;
  readonly serviceName: string | undefined;
  readonly environment: string | undefined;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly resourceDetectors: readonly DetectorName[];
  readonly propagators: readonly Exclude<PropagatorName, 'none'>[];
  readonly instrumentations: {
    /** undefined: the defaults of the catalog. */
    readonly enabled: readonly InstrumentationName[] | undefined;
    readonly disabled: readonly InstrumentationName[];
    /** Prompt and completion text on gen_ai spans: user data, so off unless asked for. */
    readonly captureMessageContent: boolean;
  };
  readonly traces: {
    readonly exporters: readonly TraceExporterName[];
    readonly otlp: OtlpConfig;
    readonly sampler: SamplerName;
    readonly samplerRatio: number;
    readonly batch: BatchConfig;
    readonly limits: {
      readonly attributeValueLengthLimit: number | undefined;
      readonly attributeCountLimit: number;
      readonly eventCountLimit: number;
      readonly linkCountLimit: number;
    };
    readonly ignorePaths: readonly string[];
    /** The stock express instrumentation (a span per layer) instead of one span per route. */
    readonly expressLayerSpans: boolean;
  };
  readonly metrics: {
    readonly exporters: readonly MetricExporterName[];
    readonly otlp: OtlpConfig;
    readonly exportIntervalMs: number;
    readonly exportTimeoutMs: number;
    readonly prefix: string;
    readonly cardinalityLimit: number;
    /** Trace and span ids of a recent sampled request per bucket, on /metrics (OpenMetrics) and over OTLP. */
    readonly exemplars: boolean;
  };
  readonly logs: {
    readonly exporters: readonly LogExporterName[];
    readonly otlp: OtlpConfig;
    readonly batch: BatchConfig;
  };
  readonly shutdownTimeoutMs: number;
  /** The flush when the app's work is done: a script's end must not wait for a dead collector. */
  readonly exitTimeoutMs: number;
  /** Do nothing in npm, yarn, PM2... (see launchers.ts). */
  readonly skipLaunchers: boolean;
  /** Node's compile cache: a directory, false for none, undefined for the default one (see compile-cache.ts). */
  readonly compileCache: string | false | undefined;
  readonly health: {
    readonly port: number;
    readonly host: string;
    /** Also answer our paths on the app's own servers. */
    readonly appRoutes: boolean;
    readonly metricsToken: string | undefined;
    readonly cacheMs: number;
    readonly checkTimeoutMs: number;
    /** Dashboard history period; 180 points are kept. */
    readonly historyIntervalMs: number;
    readonly databaseUrl: string | undefined;
    readonly redisUrl: string | undefined;
    readonly ai: {
      /** The variable that holds the key. */
      readonly keyVariable: string;
      readonly keyPresent: boolean;
      /** Named explicitly: a missing key is a failure, not "not configured". */
      readonly required: boolean;
    };
  };
  readonly redactKeys: readonly string[];
  /** INNATURAL_REDACT_PATTERNS and INNATURAL_REDACT_RAW_TEXT, with redactKeys: what sinkRedactor needs. */
  readonly redaction: RedactionSettings;
  readonly sentry:
    | {
        readonly dsn: string;
        readonly environment: string | undefined;
        readonly release: string | undefined;
        readonly debug: boolean;
        readonly traces: boolean;
        readonly profilesSampleRate: number;
      }
    | undefined;
  readonly http: {
    /** undefined: no response time header. */
    readonly responseTimeHeader: string | undefined;
    readonly slowRequestMs: number;
  };
}

export interface Resolution {
  readonly config: ResolvedConfig;
  readonly warnings: readonly ConfigWarning[];
}

const MAX_MS = 10 * 60 * 1000;

function compileCache(value: string): string | false | undefined {
  const lower = value.toLowerCase();
  return lower === 'false' ? false : lower === 'true' ? undefined : value;
}

/** Pure: reads only the env it is given, so tests never touch process.env. */
export function resolveConfig(env: Env): Resolution {
  const r = new EnvReader(env);
  const redactKeys = r.list<string>('INNATURAL_REDACT_KEYS', undefined, []);
  const disabled = r.boolean('OTEL_SDK_DISABLED', false);

  const detectors = r.list('OTEL_NODE_RESOURCE_DETECTORS', [...LOCAL_DETECTORS, ...CLOUD_DETECTORS, 'all', 'none'], LOCAL_DETECTORS);
  // An enabled list with nothing valid in it falls back to the defaults, not to "nothing".
  const enabledList = r.list('OTEL_NODE_ENABLED_INSTRUMENTATIONS', INSTRUMENTATION_NAMES, [], 'the default');
  const otlpDefaults = otlpGeneral(r);

  const config: ResolvedConfig = {
    disabled,
    logLevel: r.oneOf('OTEL_LOG_LEVEL', LOG_LEVELS, 'info'),
    serviceName: r.string('OTEL_SERVICE_NAME'),
    environment: r.string('SENTRY_ENVIRONMENT') ?? r.string('NODE_ENV'),
    resourceAttributes: r.keyValues('OTEL_RESOURCE_ATTRIBUTES'),
    resourceDetectors: detectors.includes('none')
      ? []
      : [...new Set(detectors.flatMap((d) => (d === 'all' ? LOCAL_DETECTORS : d === 'none' ? [] : [d])))],
    propagators: withoutNone(r.list('OTEL_PROPAGATORS', PROPAGATORS, ['tracecontext', 'baggage'])),
    instrumentations: {
      enabled: enabledList.length > 0 ? enabledList : undefined,
      disabled: r.list('OTEL_NODE_DISABLED_INSTRUMENTATIONS', INSTRUMENTATION_NAMES, []),
      captureMessageContent: r.boolean('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT', false),
    },
    traces: {
      exporters: withoutNone(r.list('OTEL_TRACES_EXPORTER', TRACE_EXPORTERS, ['otlp'])),
      otlp: otlp(r, 'traces', otlpDefaults),
      sampler: r.oneOf('OTEL_TRACES_SAMPLER', SAMPLERS, 'parentbased_always_on'),
      samplerRatio: r.number('OTEL_TRACES_SAMPLER_ARG', 1, { min: 0, max: 1 }),
      batch: batch(r, 'BSP', 5000, 30000, 2048, 512),
      limits: {
        attributeValueLengthLimit: r.optionalInteger('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', { min: 1 }),
        attributeCountLimit: r.integer('OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT', 128, { min: 0 }),
        eventCountLimit: r.integer('OTEL_SPAN_EVENT_COUNT_LIMIT', 128, { min: 0 }),
        linkCountLimit: r.integer('OTEL_SPAN_LINK_COUNT_LIMIT', 128, { min: 0 }),
      },
      ignorePaths: r.list<string>('INNATURAL_TRACES_IGNORE_PATHS', undefined, []).map((p) => (p.startsWith('/') ? p : `/${p}`)),
      expressLayerSpans: r.boolean('INNATURAL_EXPRESS_LAYER_SPANS', false),
    },
    metrics: {
      exporters: withoutNone(r.list('OTEL_METRICS_EXPORTER', METRIC_EXPORTERS, ['prometheus'])),
      otlp: otlp(r, 'metrics', otlpDefaults),
      exportIntervalMs: r.integer('OTEL_METRIC_EXPORT_INTERVAL', 60000, { min: 100, max: MAX_MS }),
      exportTimeoutMs: r.integer('OTEL_METRIC_EXPORT_TIMEOUT', 30000, { min: 1, max: MAX_MS }),
      prefix: r.matching('INNATURAL_METRICS_PREFIX', /^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a Prometheus metric name prefix', 'innatural_chatbot'),
      cardinalityLimit: r.integer('INNATURAL_METRICS_CARDINALITY_LIMIT', 2000, { min: 1, max: 1_000_000 }),
      exemplars: r.boolean('INNATURAL_METRICS_EXEMPLARS', true),
    },
    logs: {
      exporters: withoutNone(r.list('OTEL_LOGS_EXPORTER', LOG_EXPORTERS, ['otlp'])),
      otlp: otlp(r, 'logs', otlpDefaults),
      batch: batch(r, 'BLRP', 1000, 30000, 2048, 512),
    },
    shutdownTimeoutMs: r.integer('INNATURAL_SHUTDOWN_TIMEOUT_MS', 5000, { min: 0, max: MAX_MS }),
    exitTimeoutMs: r.integer('INNATURAL_EXIT_TIMEOUT_MS', 1000, { min: 0, max: MAX_MS }),
    skipLaunchers: r.boolean('INNATURAL_SKIP_LAUNCHERS', true),
    compileCache: compileCache(r.matching('INNATURAL_COMPILE_CACHE', /^(true|false|\/.*|[a-z]:[\\/].*)$/i, 'expected an absolute path, true or false', 'true')),
    health: {
      port: r.integer('INNATURAL_HEALTH_PORT', 9464, { min: 0, max: 65535 }),
      host: r.string('INNATURAL_HEALTH_HOST') ?? '0.0.0.0',
      appRoutes: r.boolean('INNATURAL_APP_ROUTES', false),
      metricsToken: r.string('INNATURAL_METRICS_TOKEN'),
      cacheMs: r.integer('INNATURAL_HEALTH_CACHE_MS', 30000, { min: 0, max: MAX_MS }),
      checkTimeoutMs: r.integer('INNATURAL_HEALTH_CHECK_TIMEOUT_MS', 2000, { min: 1, max: MAX_MS }),
      historyIntervalMs: r.integer('INNATURAL_HISTORY_INTERVAL_MS', 5000, { min: 100, max: 60_000 }),
      databaseUrl: r.url('DATABASE_URL', ['postgres', 'postgresql']),
      redisUrl: r.url('REDIS_URL', ['redis', 'rediss']),
      ai: aiKey(r, env),
    },
    redactKeys,
    redaction: {
      keys: redactKeys,
      patterns: r.patterns('INNATURAL_REDACT_PATTERNS'),
      rawText: r.list('INNATURAL_REDACT_RAW_TEXT', REDACTION_SINKS, []),
    },
    sentry: sentry(r),
    http: {
      responseTimeHeader: responseTimeHeader(r),
      slowRequestMs: r.integer('INNATURAL_SLOW_REQUEST_MS', 5000, { min: 0, max: MAX_MS }),
    },
  };
  return { config, warnings: r.warnings };
}

const OFF = ['false', 'off', 'none', '0'];

function sentry(r: EnvReader): ResolvedConfig['sentry'] {
  const dsn = r.url('SENTRY_DSN');
  // Read whether or not a DSN is set, so a bad value is reported either way.
  const rest = {
    environment: r.string('SENTRY_ENVIRONMENT'),
    release: r.string('SENTRY_RELEASE'),
    debug: r.boolean('SENTRY_DEBUG', false),
    traces: r.boolean('INNATURAL_SENTRY_TRACES', true),
    profilesSampleRate: r.number('SENTRY_PROFILES_SAMPLE_RATE', 0, { min: 0, max: 1 }),
  };
  return dsn === undefined ? undefined : { dsn, ...rest };
}

function responseTimeHeader(r: EnvReader): string | undefined {
  const name = r.matching(
    'INNATURAL_RESPONSE_TIME_HEADER',
    /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/,
    'expected a header name, or false',
    'X-Response-Time',
  );
  return OFF.includes(name.toLowerCase()) ? undefined : name;
}

/**
 * The key variable's name comes from INNATURAL_HEALTH_AI_KEY_ENV: the one place a variable
 * outside VARIABLES is read, and only for whether it is set.
 */
function aiKey(r: EnvReader, env: Env): ResolvedConfig['health']['ai'] {
  const named = r.matching('INNATURAL_HEALTH_AI_KEY_ENV', /^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name', '');
  const keyVariable = named === '' ? 'OPENAI_API_KEY' : named;
  const value = keyVariable === 'OPENAI_API_KEY' ? r.string('OPENAI_API_KEY') : env[keyVariable]?.trim();
  return { keyVariable, keyPresent: value !== undefined && value !== '', required: named !== '' };
}

function withoutNone<T extends string>(list: readonly T[]): Exclude<T, 'none'>[] {
  return list.includes('none' as T) ? [] : (list as Exclude<T, 'none'>[]);
}

const SIGNAL_VAR = { traces: 'TRACES', metrics: 'METRICS', logs: 'LOGS' } as const;

interface OtlpDefaults {
  readonly protocol: OtlpProtocol;
  readonly base: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly compression: 'gzip' | 'none';
}

/** The signal-independent variables, read once so a bad value warns once, not per signal. */
function otlpGeneral(r: EnvReader): OtlpDefaults {
  return {
    protocol: r.oneOf('OTEL_EXPORTER_OTLP_PROTOCOL', OTLP_PROTOCOLS, 'http/protobuf'),
    base: r.url('OTEL_EXPORTER_OTLP_ENDPOINT'),
    headers: r.keyValues('OTEL_EXPORTER_OTLP_HEADERS'),
    timeoutMs: r.integer('OTEL_EXPORTER_OTLP_TIMEOUT', 10000, { min: 1, max: MAX_MS }),
    compression: r.oneOf('OTEL_EXPORTER_OTLP_COMPRESSION', COMPRESSIONS, 'none'),
  };
}

const COMPRESSIONS = ['gzip', 'none'] as const;

function otlp(r: EnvReader, signal: Signal, defaults: OtlpDefaults): OtlpConfig {
  const S = SIGNAL_VAR[signal];
  const protocol = r.oneOf(`OTEL_EXPORTER_OTLP_${S}_PROTOCOL`, OTLP_PROTOCOLS, defaults.protocol);
  const specific = r.url(`OTEL_EXPORTER_OTLP_${S}_ENDPOINT`);
  let endpoint: string;
  if (specific !== undefined) endpoint = specific;
  else if (protocol === 'grpc') endpoint = defaults.base ?? 'http://localhost:4317';
  else endpoint = `${(defaults.base ?? 'http://localhost:4318').replace(/\/+$/, '')}/v1/${signal}`;
  return {
    protocol,
    endpoint,
    headers: { ...defaults.headers, ...r.keyValues(`OTEL_EXPORTER_OTLP_${S}_HEADERS`) },
    timeoutMs: r.integer(`OTEL_EXPORTER_OTLP_${S}_TIMEOUT`, defaults.timeoutMs, { min: 1, max: MAX_MS }),
    compression: r.oneOf(`OTEL_EXPORTER_OTLP_${S}_COMPRESSION`, COMPRESSIONS, defaults.compression),
  };
}

function batch(
  r: EnvReader,
  prefix: 'BSP' | 'BLRP',
  delay: number,
  timeout: number,
  queue: number,
  size: number,
): BatchConfig {
  const maxQueueSize = r.integer(`OTEL_${prefix}_MAX_QUEUE_SIZE`, queue, { min: 1, max: 1_000_000 });
  return {
    scheduleDelayMs: r.integer(`OTEL_${prefix}_SCHEDULE_DELAY`, delay, { min: 0, max: MAX_MS }),
    exportTimeoutMs: r.integer(`OTEL_${prefix}_EXPORT_TIMEOUT`, timeout, { min: 1, max: MAX_MS }),
    maxQueueSize,
    maxExportBatchSize: r.integer(`OTEL_${prefix}_MAX_EXPORT_BATCH_SIZE`, Math.min(size, maxQueueSize), {
      min: 1,
      max: maxQueueSize,
    }),
  };
}
