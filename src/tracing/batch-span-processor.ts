import { TraceFlags } from '@opentelemetry/api';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { BatchConfig } from '../config/resolve';
import { Batcher } from '../export/batcher';

/**
 * The SDK's BatchSpanProcessor, on a queue whose timers never hold the event loop (see
 * Batcher). Spans recorded only for metrics (not sampled) are not exported, as there.
 */
export class BatchSpanProcessor implements SpanProcessor {
  private readonly batcher: Batcher<ReadableSpan>;

  constructor(exporter: SpanExporter, batch: BatchConfig) {
    this.batcher = new Batcher(exporter, batch, 'spans');
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    this.batcher.add(span);
  }

  forceFlush(): Promise<void> {
    return this.batcher.flush();
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }
}
