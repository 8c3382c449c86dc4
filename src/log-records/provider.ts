import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, LogRecordProcessor, LoggerProvider as SdkLoggerProvider } from '@opentelemetry/sdk-logs';
import type { LogExporterName, ResolvedConfig } from '../config/resolve';

/** Required only when a logger instrumentation will send records: sdk-logs is otherwise dead weight at start. */
export function createLoggerProvider(
  config: ResolvedConfig,
  resource: Resource,
  first: readonly LogRecordProcessor[] = [],
): SdkLoggerProvider | undefined {
  const { logs } = config;
  if (logs.exporters.length === 0) return undefined;
  const sdk = require('@opentelemetry/sdk-logs') as typeof import('@opentelemetry/sdk-logs');
  const { BatchLogRecordProcessor } = require('./batch-log-processor') as typeof import('./batch-log-processor');
  // Here, not imported: the OTLP transport pulls in otlp-exporter-base, core and the semantic conventions,
  // which a service whose logger instrumentations never load (or that has none) would compile for nothing.
  const { createOtlpExporter } = require('../export/otlp') as typeof import('../export/otlp');
  // One entry per OTEL_LOGS_EXPORTER value.
  const processorFor: Record<LogExporterName, () => LogRecordProcessor> = {
    otlp: () => new BatchLogRecordProcessor(createOtlpExporter<LogRecordExporter>('logs', logs.otlp), logs.batch),
    console: () => new sdk.SimpleLogRecordProcessor({ exporter: new sdk.ConsoleLogRecordExporter() }),
  };
  const processors = logs.exporters.map((name) => processorFor[name]());
  return new sdk.LoggerProvider({ resource, processors: [...first, ...processors] });
}
