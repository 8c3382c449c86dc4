import type { LogRecordExporter, LogRecordProcessor, SdkLogRecord } from '@opentelemetry/sdk-logs';
import type { BatchConfig } from '../config/resolve';
import { Batcher } from '../export/batcher';

/** The SDK's BatchLogRecordProcessor, on a queue whose timers never hold the event loop (see Batcher). */
export class BatchLogRecordProcessor implements LogRecordProcessor {
  private readonly batcher: Batcher<SdkLogRecord>;

  constructor(exporter: LogRecordExporter, batch: BatchConfig) {
    this.batcher = new Batcher(exporter as never, batch, 'log records');
  }

  onEmit(record: SdkLogRecord): void {
    this.batcher.add(record);
  }

  forceFlush(): Promise<void> {
    return this.batcher.flush();
  }

  shutdown(): Promise<void> {
    return this.batcher.shutdown();
  }
}
