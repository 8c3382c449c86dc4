import { context, diag } from '@opentelemetry/api';
import type { ExportResult } from '@opentelemetry/core';
import type { BatchConfig } from '../config/resolve';

/** What a batch is handed to: a SpanExporter or a LogRecordExporter. */
export interface BatchExporter<T> {
  export(items: T[], done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** Spans and log records carry their resource, whose detectors may still be settling. */
interface Resourced {
  readonly resource: { readonly asyncAttributesPending?: boolean; waitForAsyncAttributes?(): Promise<void> };
}

/** ExportResultCode.SUCCESS. */
const SUCCESS = 0;

/**
 * The queue behind our batch span and log record processors, as the SDK's batch processors
 * keep it (bounded, a batch every scheduleDelayMs or as soon as maxExportBatchSize wait,
 * each export bounded by exportTimeoutMs, in a context with tracing suppressed), with one
 * difference: no timer of it holds the event loop. The SDK's export timeout is a ref'd timer
 * for as long as the export lasts, so a script whose work ended during an export to a dead
 * collector stayed up for it (about 10 s, the OTLP timeout). Here the process may end then,
 * and the flush at exit (see installBeforeExitFlush) sends what is left within its budget.
 */
export class Batcher<T extends Resourced> {
  private queue: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private exporting = false;
  private dropped = 0;
  private stopping: Promise<void> | undefined;
  private readonly maxExportBatchSize: number;

  constructor(
    private readonly exporter: BatchExporter<T>,
    private readonly batch: BatchConfig,
    /** Plural, for the drop warning: "spans", "log records". */
    private readonly what: string,
  ) {
    this.maxExportBatchSize = Math.min(batch.maxExportBatchSize, batch.maxQueueSize);
  }

  add(item: T): void {
    if (this.stopping) return;
    if (this.queue.length >= this.batch.maxQueueSize) {
      if (this.dropped++ === 0) diag.debug(`maxQueueSize reached, dropping ${this.what}`);
      return;
    }
    if (this.dropped > 0) {
      diag.warn(`Dropped ${this.dropped} ${this.what} because maxQueueSize reached`);
      this.dropped = 0;
    }
    this.queue.push(item);
    this.schedule();
  }

  /** Exports everything queued, in parallel batches; rejects when one of them fails. */
  flush(): Promise<void> {
    if (this.stopping) return this.stopping;
    return this.flushAll();
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.flushAll().then(() => this.exporter.shutdown());
    return this.stopping;
  }

  private flushAll(): Promise<void> {
    const batches = Math.ceil(this.queue.length / this.maxExportBatchSize);
    return Promise.all(Array.from({ length: batches }, () => this.exportOne())).then(() => undefined);
  }

  private exportOne(): Promise<void> {
    this.clearTimer();
    if (this.queue.length === 0) return Promise.resolve();
    const items = this.queue.length <= this.maxExportBatchSize ? this.queue : this.queue.slice(0, this.maxExportBatchSize);
    this.queue = items === this.queue ? [] : this.queue.slice(this.maxExportBatchSize);
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('Timeout')), this.batch.exportTimeoutMs);
      timeout.unref();
      const send = () =>
        this.exporter.export(items, (result) => {
          clearTimeout(timeout);
          if (result.code === SUCCESS) resolve();
          else reject(result.error ?? new Error(`Batch export of ${this.what} failed`));
        });
      // Our own exports must not make spans of their own.
      const { suppressTracing } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
      context.with(suppressTracing(context.active()), () => {
        const pending = items.filter((i) => i.resource.asyncAttributesPending && i.resource.waitForAsyncAttributes);
        if (pending.length === 0) return send();
        Promise.all(pending.map((i) => i.resource.waitForAsyncAttributes!())).then(send, reject);
      });
    });
  }

  private schedule(): void {
    if (this.exporting) return;
    const run = () => {
      this.exporting = true;
      this.exportOne()
        .catch((err: unknown) => {
          const { globalErrorHandler } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
          globalErrorHandler(err as Error);
        })
        .finally(() => {
          this.exporting = false;
          if (this.queue.length > 0) this.schedule();
        });
    };
    if (this.queue.length >= this.maxExportBatchSize) return run();
    if (this.timer !== undefined) return;
    this.timer = setTimeout(run, this.batch.scheduleDelayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
