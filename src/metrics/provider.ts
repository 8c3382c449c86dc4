import type { Resource } from '@opentelemetry/resources';
import type { MeterProvider, MetricProducer, MetricReader, PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { MetricExporterName, ResolvedConfig } from '../config/resolve';

type SdkMetrics = typeof import('@opentelemetry/sdk-metrics');

/** sdk-metrics on first use: with only the Prometheus exporter it is never loaded. */
const sdk = (): SdkMetrics => require('@opentelemetry/sdk-metrics') as SdkMetrics;

/** One entry per pushing OTEL_METRICS_EXPORTER value; 'prometheus' is pulled from our server instead. */
const PUSH_EXPORTERS: Record<MetricExporterName, ((metrics: ResolvedConfig['metrics']) => PushMetricExporter) | undefined> = {
  prometheus: undefined,
  // Required here: with only Prometheus, the OTLP transport (and the core and semantic conventions it pulls in) never loads.
  otlp: (metrics) => (require('../export/otlp') as typeof import('../export/otlp')).createOtlpExporter<PushMetricExporter>('metrics', metrics.otlp),
  console: () => new (sdk().ConsoleMetricExporter)(),
};

/** Push readers (OTLP, console). The Prometheus pull side is served by our own server. */
export function createPushReaders(config: ResolvedConfig, producers: () => readonly MetricProducer[]): MetricReader[] {
  const { metrics } = config;
  const readers: MetricReader[] = [];
  for (const name of metrics.exporters) {
    const push = PUSH_EXPORTERS[name];
    if (!push) continue;
    const { PeriodicExportingMetricReader } = sdk();
    const exporter = push(metrics);
    readers.push(
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: metrics.exportIntervalMs,
        exportTimeoutMillis: Math.min(metrics.exportTimeoutMs, metrics.exportIntervalMs),
        metricProducers: [...producers()],
      }),
    );
  }
  return readers;
}

export function createMeterProvider(resource: Resource, readers: MetricReader[]): MeterProvider {
  return new (sdk().MeterProvider)({ resource, readers });
}
