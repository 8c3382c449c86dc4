/**
 * The seed's Sentry helpers, on OpenTelemetry: reports go to the local log and, with a
 * DSN, to Sentry; spans are OpenTelemetry spans, so they reach every trace backend.
 * Safe no-ops when the SDK is disabled; never throw.
 */
import type { Span, SpanContext } from '@opentelemetry/api';
import { globalSlot } from '../global-slot';
import { errorClassName } from './name';
import type { ErrorReporter, Level } from './reporter';

interface ErrorState {
  readonly reporter: ErrorReporter;
  /** The catalog's errors_total, by its shape alone: errors/ sits below metrics/ (see test/architecture). */
  readonly metrics: { readonly errors: { inc(labels: readonly string[], by?: number, ids?: SpanContext): void } } | undefined;
}

const slot = globalSlot<ErrorState>('@innatural/otel.errors');

export function setErrorState(state: ErrorState | undefined): void {
  slot.set(state);
}

function state(): ErrorState | undefined {
  return slot.get();
}

const LEVELS: readonly Level[] = ['fatal', 'error', 'warning', 'log', 'info', 'debug'];

/** Reports an error (with optional context) and counts it in errors_total. Returns the Sentry event id, if any. */
export function captureException(error: unknown, ctx?: Record<string, unknown>): string | undefined {
  const st = state();
  if (!st) return undefined;
  try {
    st.metrics?.errors.inc([errorClassName(error) ?? 'Error', 'error'], 1, otelApi().trace.getActiveSpan()?.spanContext());
    return st.reporter.exception(error, { level: 'error', mechanism: 'api', handled: true, context: ctx });
  } catch {
    return undefined;
  }
}

export function captureMessage(message: string, level: Level = 'info', ctx?: Record<string, unknown>): string | undefined {
  const st = state();
  if (!st) return undefined;
  try {
    return st.reporter.message(String(message), LEVELS.includes(level) ? level : 'info', ctx);
  } catch {
    return undefined;
  }
}

export function addBreadcrumb(message: string, category = 'default', data?: Record<string, unknown>): void {
  try {
    state()?.reporter.breadcrumb({ message: String(message), category: String(category), data });
  } catch {
    // a breadcrumb is never worth an exception
  }
}

export interface SpanHandle {
  /** The OpenTelemetry span, for anything the seed's API does not cover. */
  readonly span: Span;
  setStatus(status: 'ok' | 'error' | string): void;
  setTag(key: string, value: string | number | boolean): void;
  setData(key: string, value: string | number | boolean): void;
  finish(): void;
}

function handle(span: Span): SpanHandle {
  return {
    span,
    // SpanStatusCode.OK and ERROR, as numbers: the enum would load the API module.
    setStatus: (status) => span.setStatus(status === 'ok' ? { code: 1 } : { code: 2, message: String(status) }),
    setTag: (key, value) => span.setAttribute(String(key), value),
    setData: (key, value) => span.setAttribute(String(key), value),
    finish: () => span.end(),
  };
}

/** Required on use: an app importing this package with the SDK disabled must load no OpenTelemetry module. */
function otelApi(): typeof import('@opentelemetry/api') {
  return require('@opentelemetry/api') as typeof import('@opentelemetry/api');
}

function startSpan(name: string, op: string | undefined): Span {
  const { context, trace } = otelApi();
  const attributes = op ? { 'sentry.op': String(op) } : {};
  return trace.getTracer('@innatural/otel').startSpan(name, { attributes }, context.active());
}

/** The seed's `startTransaction(name, op)`: a span in the current trace (a new trace outside any request). */
export function startTransaction(name: string, op?: string): SpanHandle {
  return handle(startSpan(String(name), op));
}

/**
 * The seed's `createSpan(req, op, description)`: a child of the request's span. `req` is
 * accepted for compatibility; the request is the active context where the handler runs.
 */
export function createSpan(_req: unknown, op: string, description?: string): SpanHandle {
  return handle(startSpan(String(description ?? op), op));
}
