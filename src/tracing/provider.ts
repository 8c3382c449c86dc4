import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';
import type { ResolvedConfig, TraceExporterName } from '../config/resolve';
import { createOtlpExporter } from '../export/otlp';
import { createSampler } from './sampler';

function processorFor(name: TraceExporterName, traces: ResolvedConfig['traces']): SpanProcessor {
  if (name === 'console') return new SimpleSpanProcessor(new ConsoleSpanExporter());
  const { batch } = traces;
  return new BatchSpanProcessor(createOtlpExporter<SpanExporter>('traces', traces.otlp), {
    scheduledDelayMillis: batch.scheduleDelayMs,
    exportTimeoutMillis: batch.exportTimeoutMs,
    maxQueueSize: batch.maxQueueSize,
    maxExportBatchSize: batch.maxExportBatchSize,
  });
}

/** undefined when no trace exporter is configured: then spans are never recorded, only context propagates. */
export function createTracerProvider(
  config: ResolvedConfig,
  resource: Resource,
  extraProcessors: readonly SpanProcessor[] = [],
): BasicTracerProvider | undefined {
  const { traces } = config;
  if (traces.exporters.length === 0) return undefined;
  return new BasicTracerProvider({
    resource,
    sampler: createSampler(traces.sampler, traces.samplerRatio),
    spanLimits: {
      attributeValueLengthLimit: traces.limits.attributeValueLengthLimit,
      attributeCountLimit: traces.limits.attributeCountLimit,
      eventCountLimit: traces.limits.eventCountLimit,
      linkCountLimit: traces.limits.linkCountLimit,
    },
    spanProcessors: [...extraProcessors, ...traces.exporters.map((name) => processorFor(name, traces))],
  });
}
