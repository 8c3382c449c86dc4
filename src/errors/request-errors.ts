import { trace, type SpanContext } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

export interface NotedError {
  readonly error: unknown;
  /** The request's span when the error surfaced, so the report joins its trace. */
  readonly spanContext: SpanContext | undefined;
}

const notes = new WeakMap<object, NotedError>();

/** The first error an Express request ran into (thrown, rejected or passed to next), if any. */
export function requestError(req: IncomingMessage): NotedError | undefined {
  return notes.get(req);
}

/** Written by the Express instrumentation (instrumentations/express-errors.ts): the first error wins. */
export function noteRequestError(req: unknown, error: unknown): void {
  if (req === null || typeof req !== 'object' || notes.has(req)) return;
  // 'route' and 'router' are Express's control values for next(), not errors.
  if (error === undefined || error === null || error === 'route' || error === 'router') return;
  notes.set(req, { error, spanContext: trace.getActiveSpan()?.spanContext() });
}
