import { createRequire } from 'node:module';
import { diag } from '@opentelemetry/api';
import type { OtlpConfig, Signal } from '../config/resolve';
import { describeError } from '../logging/logger';
import { countUnsent } from './count-unsent';
import { withExemplars } from './exemplar-serializer';
import type { MetricsSerializer } from './exemplars';
import { exitWindow } from './exit-window';
import { HttpTransport, type OtlpNodeHttpConfiguration } from './http-transport';
import { RetryingTransport } from './retrying-transport';
import { onePassTraceSerializer, transformerFile, type TraceSerializer } from './span-serializer';
import { untracedExports } from './untraced';

const PACKAGES: Record<Signal, { readonly prefix: string; readonly className: string }> = {
  traces: { prefix: '@opentelemetry/exporter-trace-otlp', className: 'OTLPTraceExporter' },
  metrics: { prefix: '@opentelemetry/exporter-metrics-otlp', className: 'OTLPMetricExporter' },
  logs: { prefix: '@opentelemetry/exporter-logs-otlp', className: 'OTLPLogExporter' },
};

/** In-flight exports per exporter; with a dead collector this is what bounds memory held by sockets. */
const CONCURRENCY_LIMIT = 4;

/**
 * Only the chosen protocol's parts are required: the three packages together (and gRPC
 * above all) are a large share of a stock preload's start-up time. Its exports never run
 * in the app's trace (see untracedExports), and the exit window counts what they could not
 * send when the app's work is done (see countUnsent).
 */
export function createOtlpExporter<T>(signal: Signal, config: OtlpConfig): T {
  return countUnsent(untracedExports(buildOtlpExporter<T>(signal, config)), signal, exitWindow);
}

function buildOtlpExporter<T>(signal: Signal, config: OtlpConfig): T {
  const common = {
    url: config.endpoint,
    timeoutMillis: config.timeoutMs,
    compression: config.compression,
    concurrencyLimit: CONCURRENCY_LIMIT,
  };
  if (config.protocol !== 'grpc') {
    const options = { ...common, headers: { ...config.headers } };
    if (signal === 'traces' && config.protocol === 'http/protobuf') {
      const lean = protobufSpanExporter<T>(options);
      if (lean) return lean;
    }
    return httpExporter<T>(signal, config.protocol, options);
  }
  // gRPC keeps the stock exporter: it never retries, but its calls hold the event loop until their deadline.
  const { prefix, className } = PACKAGES[signal];
  const mod = require(`${prefix}-grpc`) as Record<string, new (options: object) => T>;
  const Exporter = mod[className]!;
  // @grpc/grpc-js is the gRPC exporter's dependency, not ours: resolve it from there.
  const exporterRequire = createRequire(require.resolve(`${prefix}-grpc`));
  const { Metadata } = exporterRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
  const options = { ...common, metadata };
  if (signal === 'metrics') return grpcMetricExporter<T>(exporterRequire, options) ?? new Exporter(options);
  return new Exporter(options);
}

/**
 * exporter-metrics-otlp-grpc's OTLPMetricExporter, assembled as its constructor does (same
 * pinned release) but with the serializer that writes exemplars. undefined when the parts are
 * not where this release keeps them: the stock exporter then sends the points without them.
 */
function grpcMetricExporter<T>(exporterRequire: NodeJS.Require, options: object): T | undefined {
  try {
    const grpcBase = exporterRequire('@opentelemetry/otlp-grpc-exporter-base') as typeof import('@opentelemetry/otlp-grpc-exporter-base');
    const { OTLPMetricExporterBase } = exporterRequire(METRIC_EXPORTER) as typeof import('@opentelemetry/exporter-metrics-otlp-http');
    const transformer = exporterRequire(TRANSFORMER) as Transformer;
    const { createOtlpGrpcExportDelegate, convertLegacyOtlpGrpcOptions } = grpcBase;
    if (typeof createOtlpGrpcExportDelegate !== 'function' || typeof convertLegacyOtlpGrpcOptions !== 'function') throw new Error('otlp-grpc-exporter-base has changed');
    const serializer = withExemplars(transformer.ProtobufMetricsSerializer as MetricsSerializer<unknown, unknown>, 'protobuf');
    const delegate = createOtlpGrpcExportDelegate(
      convertLegacyOtlpGrpcOptions(options, 'METRICS'),
      serializer as never,
      'otlp_grpc_metric_exporter',
      transformer.MetricsExporterMetricsHelper,
      undefined,
      'MetricsExportService',
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
    );
    return new OTLPMetricExporterBase(delegate, options) as T;
  } catch (err) {
    diag.warn(`OTLP/gRPC metrics are exported without their exemplars: ${describeError(err)}`);
    return undefined;
  }
}

type ExporterBase = typeof import('@opentelemetry/otlp-exporter-base');
type NodeHttp = typeof import('@opentelemetry/otlp-exporter-base/node-http');
type Transformer = typeof import('@opentelemetry/otlp-transformer');

/** The stock exporters' Content-Type, resource path and self-metrics names, per signal. */
const HTTP_SIGNALS = {
  traces: { id: 'TRACES', path: 'v1/traces', component: 'otlp_http_span_exporter', helper: 'TraceExporterMetricsHelper', protobuf: 'ProtobufTraceSerializer', json: 'JsonTraceSerializer' },
  metrics: { id: 'METRICS', path: 'v1/metrics', component: 'otlp_http_metric_exporter', helper: 'MetricsExporterMetricsHelper', protobuf: 'ProtobufMetricsSerializer', json: 'JsonMetricsSerializer' },
  logs: { id: 'LOGS', path: 'v1/logs', component: 'otlp_http_log_exporter', helper: 'LogsExporterMetricsHelper', protobuf: 'ProtobufLogsSerializer', json: 'JsonLogsSerializer' },
} as const satisfies Record<Signal, { id: string; path: string; component: string; helper: keyof Transformer; protobuf: keyof Transformer; json: keyof Transformer }>;

/**
 * Named through a variable so the bundler leaves them out: the transformer's index would put
 * every serializer in the preload's bundle (+60 KB) for the services that export only spans.
 */
const TRANSFORMER = '@opentelemetry/otlp-transformer';
const METRIC_EXPORTER = '@opentelemetry/exporter-metrics-otlp-http';
const requireAtRunTime = <T>(id: string): T => require(id) as T;

const CONTENT_TYPE = { 'http/protobuf': 'application/x-protobuf', 'http/json': 'application/json' } as const;

/**
 * The stock OTLP/HTTP exporter of `signal`, assembled from the same public parts
 * (serializer, export delegate, configuration from OTEL_EXPORTER_OTLP_*), with our transport:
 * see HttpTransport and RetryingTransport.
 */
function httpExporter<T>(signal: Signal, protocol: keyof typeof CONTENT_TYPE, options: object): T {
  const spec = HTTP_SIGNALS[signal];
  const transformer = requireAtRunTime<Transformer>(TRANSFORMER);
  const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as ExporterBase;
  const http = require('@opentelemetry/otlp-exporter-base/node-http') as NodeHttp;
  const configuration = http.convertLegacyHttpOptions(options, spec.id, spec.path, { 'Content-Type': CONTENT_TYPE[protocol] });
  const encoding = protocol === 'http/json' ? 'json' : 'protobuf';
  const stock = transformer[spec[encoding]];
  const serializer = signal === 'metrics' ? withExemplars(stock as MetricsSerializer<unknown, unknown>, encoding) : stock;
  const delegate = exportDelegate(configuration, serializer, spec.component, transformer[spec.helper]);
  if (signal !== 'metrics') return new OTLPExporterBase(delegate as never) as T;
  // The metric exporter adds temporality and aggregation (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE) to the base.
  const { OTLPMetricExporterBase } = requireAtRunTime<typeof import('@opentelemetry/exporter-metrics-otlp-http')>(METRIC_EXPORTER);
  return new OTLPMetricExporterBase(delegate as never, options) as T;
}

/** createOtlpHttpExportDelegate's assembly, with a transport whose sockets and retries never hold the event loop. */
function exportDelegate(configuration: OtlpNodeHttpConfiguration, serializer: unknown, component: string, helper: unknown): unknown {
  const { createOtlpNetworkExportDelegate } = require('@opentelemetry/otlp-exporter-base') as ExporterBase;
  const { createOtlpHttpExporterMetrics } = require('@opentelemetry/otlp-exporter-base/node-http') as NodeHttp;
  const metrics = (createOtlpHttpExporterMetrics as (...args: unknown[]) => unknown)(component, helper, configuration.url, undefined);
  const transport = new RetryingTransport(new HttpTransport(configuration), exitWindow);
  return (createOtlpNetworkExportDelegate as (...args: unknown[]) => unknown)(configuration, serializer, metrics, transport);
}

/** What a protobuf span exporter over node:http is assembled from. */
export interface SpanExporterParts {
  readonly OTLPExporterBase: ExporterBase['OTLPExporterBase'];
  readonly convertLegacyHttpOptions: NodeHttp['convertLegacyHttpOptions'];
  readonly httpAgentFactoryFromOptions: NodeHttp['httpAgentFactoryFromOptions'];
  readonly serializer: unknown;
  readonly metricsHelper: unknown;
}

/**
 * exporter-trace-otlp-proto's OTLPTraceExporter, assembled from the same parts (pinned to
 * the same release), but with only the trace serializer required: the package requires
 * otlp-transformer's index, which loads the metric and log serializers and all of
 * sdk-metrics (~90 modules, a quarter of the preload's start-up) for a service that may
 * never export a metric over OTLP. The serializer writes the same bytes in one pass (see
 * span-serializer.ts). undefined when the parts are not where this release keeps them.
 */
export function spanExporterParts(): SpanExporterParts | undefined {
  try {
    const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as ExporterBase;
    const http = require('@opentelemetry/otlp-exporter-base/node-http') as NodeHttp;
    const { ProtobufTraceSerializer } = transformerFile<{ ProtobufTraceSerializer?: unknown }>(
      () => require('@opentelemetry/otlp-transformer/dist/trace/protobuf/trace.cjs'),
      'trace/protobuf/trace.cjs',
    );
    const { TraceExporterMetricsHelper } = transformerFile<{ TraceExporterMetricsHelper?: unknown }>(
      () => require('@opentelemetry/otlp-transformer/dist/trace/index.cjs'),
      'trace/index.cjs',
    );
    if (!ProtobufTraceSerializer || !TraceExporterMetricsHelper) return undefined;
    return {
      OTLPExporterBase,
      convertLegacyHttpOptions: http.convertLegacyHttpOptions,
      httpAgentFactoryFromOptions: http.httpAgentFactoryFromOptions,
      serializer: onePassTraceSerializer(ProtobufTraceSerializer as TraceSerializer) ?? ProtobufTraceSerializer,
      metricsHelper: TraceExporterMetricsHelper,
    };
  } catch {
    return undefined;
  }
}

/** The `OTEL_EXPORTER_OTLP_*` variables complete `options`, as in the stock exporter. undefined: use the package. */
export function protobufSpanExporter<T>(options: object): T | undefined {
  const parts = spanExporterParts();
  if (!parts) return undefined;
  const configuration = parts.convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' });
  return spanExporterFrom<T>(parts, configuration);
}

/** A span exporter from the parts and a complete configuration (nothing is read from the environment here). */
export function spanExporterFrom<T>(parts: SpanExporterParts, configuration: OtlpNodeHttpConfiguration): T {
  const delegate = exportDelegate(configuration, parts.serializer, HTTP_SIGNALS.traces.component, parts.metricsHelper);
  return new parts.OTLPExporterBase(delegate as never) as T;
}
