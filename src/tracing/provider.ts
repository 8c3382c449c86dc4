import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import { AlwaysOffSampler, TracerProvider, ConsoleSpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import type { Resource } from '@opentelemetry/resources';
import type { ResolvedConfig, TraceExporterName } from '../config/resolve';
import { createOtlpExporter } from '../export/otlp';
import { feedsMetrics } from '../metrics/spans';
import { BatchSpanProcessor } from './batch-span-processor';
import { createSampler, RecordForMetrics } from './sampler';

function batchProcessor(exporter: SpanExporter, { batch }: ResolvedConfig['traces']): SpanProcessor {
  return new BatchSpanProcessor(exporter, batch);
}

/** One entry per OTEL_TRACES_EXPORTER value. */
const PROCESSORS: Record<TraceExporterName, (traces: ResolvedConfig['traces']) => SpanProcessor> = {
  otlp: (traces) => batchProcessor(createOtlpExporter<SpanExporter>('traces', traces.otlp), traces),
  console: () => new SimpleSpanProcessor({ exporter: new ConsoleSpanExporter() }),
};

function processorFor(name: TraceExporterName, traces: ResolvedConfig['traces']): SpanProcessor {
  return PROCESSORS[name](traces);
}

export interface TracerOptions {
  /** Run first, before any exporter: redaction, activity tracking. */
  readonly processors: readonly SpanProcessor[];
  /** Exported besides OTEL_TRACES_EXPORTER's (Sentry's OTLP endpoint). */
  readonly exporters?: readonly SpanExporter[];
  /** Derives metrics from client spans; its presence makes those spans recorded whatever the sampler says. */
  readonly metrics?: SpanProcessor;
}

/**
 * undefined when there is nothing to export and no metric to derive: then spans are
 * never created, only context propagates.
 */
export function createTracerProvider(
  config: ResolvedConfig,
  resource: Resource,
  options: TracerOptions,
): TracerProvider | undefined {
  const { traces } = config;
  const extra = options.exporters ?? [];
  const exporting = traces.exporters.length > 0 || extra.length > 0;
  if (!exporting && !options.metrics) return undefined;
  const configured = exporting ? createSampler(traces.sampler, traces.samplerRatio) : new AlwaysOffSampler();
  const extraProcessors = options.metrics ? [...options.processors, options.metrics] : options.processors;
  return new TracerProvider({
    resource,
    sampler: options.metrics ? new RecordForMetrics(configured, feedsMetrics) : configured,
    spanLimits: {
      attributeValueLengthLimit: traces.limits.attributeValueLengthLimit,
      attributeCountLimit: traces.limits.attributeCountLimit,
      eventCountLimit: traces.limits.eventCountLimit,
      linkCountLimit: traces.limits.linkCountLimit,
    },
    spanProcessors: [
      ...extraProcessors,
      ...traces.exporters.map((name) => processorFor(name, traces)),
      ...extra.map((exporter) => batchProcessor(exporter, traces)),
    ],
  });
}
