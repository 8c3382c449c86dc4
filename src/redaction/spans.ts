import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { REDACTED, type Redactor } from './policy';

type Attrs = Record<string, unknown>;

const URL_KEYS = new Set(['url.full', 'http.url', 'url.original', 'http.request.url']);
const TARGET_KEYS = new Set(['http.target']);
const QUERY_KEYS = new Set(['url.query']);
const SQL_KEYS = new Set(['db.query.text', 'db.statement']);
const TEXT_KEYS = new Set(['exception.message', 'exception.stacktrace', 'db.query.summary', 'gen_ai.prompt', 'gen_ai.completion']);

/**
 * Rewrites a set of attributes in place. Only the attributes that can carry user data
 * are scanned (URLs, queries, SQL, exception text, anything under a secret-looking
 * key): scanning every attribute of every span would cost more than the span itself.
 */
export function redactAttributes(attrs: Attrs, redactor: Redactor, set: (key: string, value: unknown) => void): void {
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (typeof value !== 'string') {
      if (value !== undefined && redactor.isSecretAttribute(key)) set(key, REDACTED);
      continue;
    }
    let next = value;
    if (URL_KEYS.has(key)) next = redactor.url(value);
    else if (TARGET_KEYS.has(key)) next = redactor.target(value);
    else if (QUERY_KEYS.has(key)) next = redactor.query(value.startsWith('?') ? value.slice(1) : value);
    else if (SQL_KEYS.has(key)) next = redactor.sql(value);
    else if (TEXT_KEYS.has(key)) next = redactor.text(value);
    else if (redactor.isSecretAttribute(key)) next = REDACTED;
    if (next !== value) set(key, next);
  }
}

/** First in the processor list: redacts while the span can still change, before any exporter sees it. */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly redactor: Redactor) {}

  onStart(): void {}

  onEnding(span: Span): void {
    redactAttributes(span.attributes as Attrs, this.redactor, (key, value) => span.setAttribute(key, value as string));
    for (const event of span.events) {
      const attrs = event.attributes as Attrs | undefined;
      if (attrs) redactAttributes(attrs, this.redactor, (key, value) => (attrs[key] = value));
    }
    if (span.status.message) span.status.message = this.redactor.text(span.status.message);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
