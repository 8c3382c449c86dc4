import type { LogRecordExporter, LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import type { BatchConfig } from '../config/resolve';
import { Batcher } from '../export/batcher';

/** The SDK's BatchLogRecordProcessor, on a queue whose timers never hold the event loop (see Batcher). */
export class BatchLogRecordProcessor implements LogRecordProcessor {
  private readonly batcher: Batcher<ReadWriteLogRecord>;

  constructor(exporter: LogRecordExporter, batch: BatchConfig) {
    this.batcher = new Batcher(exporter as never, batch, 'log records');
  }

  onEmit(record: ReadWriteLogRecord): void {
    this.batcher.add(record);
  }

  forceFlush(): Promise<void> {
    return this.batcher.flush();
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }
}
