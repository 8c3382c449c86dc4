import type { LogRecordProcessor, ReadWriteLogRecord } from '@opentelemetry/sdk-logs';
import { REDACTED, type Redactor } from './policy';

/** First log processor: log bodies and attributes are user data as much as span attributes are. */
export class RedactingLogProcessor implements LogRecordProcessor {
  constructor(private readonly redactor: Redactor) {}

  onEmit(record: ReadWriteLogRecord): void {
    const body = record.body;
    if (typeof body === 'string') record.setBody(this.redactor.text(body));
    else if (body !== null && typeof body === 'object') record.setBody(this.redactor.value(body) as typeof body);
    // Log volume is far below span volume: every attribute is scanned, not only the known carriers.
    for (const [key, value] of Object.entries(record.attributes as Record<string, unknown>)) {
      const next = this.redactor.isSecretAttribute(key) ? REDACTED : this.redactor.value(value);
      if (next !== value) record.setAttribute(key, next as never);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
