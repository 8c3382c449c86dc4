import type { Resource } from '@opentelemetry/resources';
import type { LogRecordExporter, LogRecordProcessor, LoggerProvider as SdkLoggerProvider } from '@opentelemetry/sdk-logs';
import type { ResolvedConfig } from '../config/resolve';
import { createOtlpExporter } from '../export/otlp';

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
  const processors = logs.exporters.map((name) =>
    name === 'console'
      ? new sdk.SimpleLogRecordProcessor({ exporter: new sdk.ConsoleLogRecordExporter() })
      : new BatchLogRecordProcessor(createOtlpExporter<LogRecordExporter>('logs', logs.otlp), logs.batch),
  );
  return new sdk.LoggerProvider({ resource, processors: [...first, ...processors] });
}
