import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import type { AiLedger } from './ai-ledger';
import type { CatalogMetrics } from './families';

const SQL_OPERATIONS = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'UPSERT', 'WITH', 'BEGIN', 'START', 'COMMIT', 'ROLLBACK',
  'SAVEPOINT', 'RELEASE', 'CREATE', 'ALTER', 'DROP', 'TRUNCATE', 'GRANT', 'REVOKE', 'SET', 'SHOW', 'EXPLAIN',
  'CALL', 'COPY', 'LOCK', 'VACUUM', 'ANALYZE', 'LISTEN', 'NOTIFY', 'PREPARE', 'EXECUTE', 'DECLARE', 'FETCH',
]);

/** True for the client spans metrics are derived from; the sampler records them even when it drops the trace. */
export function feedsMetrics(kind: SpanKind, attributes: Attributes | undefined): boolean {
  if (kind !== SpanKind.CLIENT || !attributes) return false;
  return (
    attributes['db.system.name'] !== undefined ||
    attributes['db.system'] !== undefined ||
    attributes['gen_ai.operation.name'] !== undefined ||
    attributes['gen_ai.system'] !== undefined ||
    attributes['gen_ai.provider.name'] !== undefined
  );
}

function sqlOperation(attrs: Attributes): string {
  const named = attrs['db.operation.name'];
  if (typeof named === 'string' && named !== '') return named.toUpperCase().split(/\s/)[0]!;
  const text = attrs['db.query.text'] ?? attrs['db.statement'];
  const keyword = typeof text === 'string' ? /^\s*\(?\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() : undefined;
  return keyword && SQL_OPERATIONS.has(keyword) ? keyword : 'OTHER';
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/**
 * Database, Redis and AI-provider metrics from the client spans the instrumentations
 * already make, at span end: one place knows every client library's attributes.
 */
export class MetricsSpanProcessor implements SpanProcessor {
  constructor(
    private readonly metrics: CatalogMetrics,
    private readonly ai: AiLedger,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (span.kind !== SpanKind.CLIENT) return;
    const attrs = span.attributes;
    const failed = span.status.code === SpanStatusCode.ERROR;
    const seconds = hrTimeToMilliseconds(span.duration) / 1000;
    const system = attrs['db.system.name'] ?? attrs['db.system'];
    if (system === 'redis') {
      const op = attrs['db.operation.name'];
      // Connection set-up spans carry no command: they are not operations. ioredis names
      // pipelined and transaction commands "PIPELINE get" / "MULTI get": the command is the last word.
      if (typeof op === 'string' && op.trim() !== '') {
        this.metrics.redisOperations.inc([op.trim().split(/\s+/).pop()!.toLowerCase(), failed ? 'error' : 'success']);
      }
      return;
    }
    if (typeof system === 'string') {
      // Connection and pool spans carry neither query text nor operation: they are not queries.
      const isQuery =
        attrs['db.query.text'] !== undefined || attrs['db.statement'] !== undefined || attrs['db.operation.name'] !== undefined;
      if (isQuery) this.metrics.dbQueryDuration.observe([sqlOperation(attrs), system], seconds, span.spanContext());
      return;
    }
    if (attrs['gen_ai.operation.name'] !== undefined || attrs['gen_ai.system'] !== undefined || attrs['gen_ai.provider.name'] !== undefined) {
      const requested = attrs['gen_ai.request.model'];
      const model = String(attrs['gen_ai.response.model'] ?? requested ?? 'unknown');
      const models = typeof requested === 'string' && requested !== model ? [model, requested] : [model];
      this.ai.add(models, hrTimeToMilliseconds(span.startTime), hrTimeToMilliseconds(span.endTime));
      this.metrics.aiRequestDuration.observe([model, failed ? 'error' : 'success'], seconds, span.spanContext());
      const prompt = tokenCount(attrs['gen_ai.usage.input_tokens'] ?? attrs['gen_ai.usage.prompt_tokens']);
      const completion = tokenCount(attrs['gen_ai.usage.output_tokens'] ?? attrs['gen_ai.usage.completion_tokens']);
      if (prompt) this.metrics.aiTokens.inc([model, 'prompt'], prompt);
      if (completion) this.metrics.aiTokens.inc([model, 'completion'], completion);
    }
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
