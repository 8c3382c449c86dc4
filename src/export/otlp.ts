import { createRequire } from 'node:module';
import type { OtlpConfig, Signal } from '../config/resolve';

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
 * all) are a large share of a stock preload's start-up time.
 */
export function createOtlpExporter<T>(signal: Signal, config: OtlpConfig): T {
  const { prefix, className } = PACKAGES[signal];
  const mod = require(`${prefix}-${SUFFIX[config.protocol]}`) as Record<string, new (options: object) => T>;
  const Exporter = mod[className]!;
  const common = {
    url: config.endpoint,
    timeoutMillis: config.timeoutMs,
    compression: config.compression,
    concurrencyLimit: CONCURRENCY_LIMIT,
  };
  if (config.protocol !== 'grpc') return new Exporter({ ...common, headers: { ...config.headers } });
  // @grpc/grpc-js is the gRPC exporter's dependency, not ours: resolve it from there.
  const exporterRequire = createRequire(require.resolve(`${prefix}-grpc`));
  const { Metadata } = exporterRequire('@grpc/grpc-js') as typeof import('@grpc/grpc-js');
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(config.headers)) metadata.set(key, value);
  return new Exporter({ ...common, metadata });
}
