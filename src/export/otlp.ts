import { createRequire } from 'node:module';
import type { OtlpConfig, Signal } from '../config/resolve';
import { untracedExports } from './untraced';

const PACKAGES: Record<Signal, { readonly prefix: string; readonly className: string }> = {
  traces: { prefix: '@opentelemetry/exporter-trace-otlp', className: 'OTLPTraceExporter' },
  metrics: { prefix: '@opentelemetry/exporter-metrics-otlp', className: 'OTLPMetricExporter' },
  logs: { prefix: '@opentelemetry/exporter-logs-otlp', className: 'OTLPLogExporter' },
};

const SUFFIX = { 'http/protobuf': 'proto', 'http/json': 'http', grpc: 'grpc' } as const;

/** In-flight exports per exporter; with a dead collector this is what bounds memory held by sockets. */
const CONCURRENCY_LIMIT = 4;

/**
 * Only the chosen protocol's package is required: the three together (and gRPC above
 * all) are a large share of a stock preload's start-up time. Its exports never run in
 * the app's trace (see untracedExports).
 */
export function createOtlpExporter<T>(signal: Signal, config: OtlpConfig): T {
  return untracedExports(buildOtlpExporter<T>(signal, config));
}

function buildOtlpExporter<T>(signal: Signal, config: OtlpConfig): T {
  const { prefix, className } = PACKAGES[signal];
  const common = {
    url: config.endpoint,
    timeoutMillis: config.timeoutMs,
    compression: config.compression,
    concurrencyLimit: CONCURRENCY_LIMIT,
  };
  if (signal === 'traces' && config.protocol === 'http/protobuf') {
    const lean = protobufSpanExporter<T>({ ...common, headers: { ...config.headers } });
    if (lean) return lean;
  }
  const mod = require(`${prefix}-${SUFFIX[config.protocol]}`) as Record<string, new (options: object) => T>;
  const Exporter = mod[className]!;
  if (config.protocol !== 'grpc') return new Exporter({ ...common, headers: { ...config.headers } });
  // @grpc/grpc-js is the gRPC exporter's dependency, not ours: resolve it from there.
  const exporterRequire = createRequire(require.resolve(`${prefix}-grpc`));
  const { Metadata } = exporterRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
  return new Exporter({ ...common, metadata });
}

type ExporterBase = typeof import('@opentelemetry/otlp-exporter-base');
type NodeHttp = typeof import('@opentelemetry/otlp-exporter-base/node-http');

/** What a protobuf span exporter over node:http is assembled from. */
export interface SpanExporterParts {
  readonly OTLPExporterBase: ExporterBase['OTLPExporterBase'];
  readonly createOtlpHttpExportDelegate: NodeHttp['createOtlpHttpExportDelegate'];
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
 * never export a metric over OTLP. undefined when the parts are not where this release
 * keeps them.
 */
export function spanExporterParts(): SpanExporterParts | undefined {
  try {
    const { OTLPExporterBase } = require('@opentelemetry/otlp-exporter-base') as ExporterBase;
    const http = require('@opentelemetry/otlp-exporter-base/node-http') as NodeHttp;
    const { ProtobufTraceSerializer } = require('@opentelemetry/otlp-transformer/build/src/trace/protobuf') as { ProtobufTraceSerializer?: unknown };
    const { TraceExporterMetricsHelper } = require('@opentelemetry/otlp-transformer/build/src/trace') as { TraceExporterMetricsHelper?: unknown };
    if (!ProtobufTraceSerializer || !TraceExporterMetricsHelper) return undefined;
    return {
      OTLPExporterBase,
      createOtlpHttpExportDelegate: http.createOtlpHttpExportDelegate,
      convertLegacyHttpOptions: http.convertLegacyHttpOptions,
      httpAgentFactoryFromOptions: http.httpAgentFactoryFromOptions,
      serializer: ProtobufTraceSerializer,
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
export function spanExporterFrom<T>(parts: SpanExporterParts, configuration: Parameters<NodeHttp['createOtlpHttpExportDelegate']>[0]): T {
  const delegate = (parts.createOtlpHttpExportDelegate as (...args: unknown[]) => unknown)(
    configuration,
    parts.serializer,
    'otlp_http_span_exporter',
    parts.metricsHelper,
    undefined,
  );
  return new parts.OTLPExporterBase(delegate as never) as T;
}
