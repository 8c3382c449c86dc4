import { context, trace, type SpanContext } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { stringify, type Logger } from '../logging/logger';
import type { Redactor } from '../redaction/policy';
import { requestData, type RequestData } from './request';

export type Level = 'fatal' | 'error' | 'warning' | 'log' | 'info' | 'debug';

export interface ExceptionReport {
  readonly level: Level;
  /** Where it was caught: 'express', 'onuncaughtexception', 'api'... */
  readonly mechanism: string;
  readonly handled: boolean;
  readonly request?: IncomingMessage;
  readonly context?: unknown;
  readonly spanContext?: SpanContext;
}

export interface Breadcrumb {
  readonly message: string;
  readonly category: string;
  readonly data?: Record<string, unknown>;
  readonly level?: Level;
}

/** Where reports go besides the local log: Sentry when a DSN is set. */
export interface ErrorBackend {
  captureException(error: unknown, report: ExceptionReport, request: RequestData | undefined): string | undefined;
  captureMessage(message: string, level: Level, context: unknown): string | undefined;
  addBreadcrumb(breadcrumb: Breadcrumb): void;
  flush(timeoutMs: number): Promise<boolean>;
}

function errorParts(error: unknown): { type: string; message: string; stack?: string } {
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack };
  return { type: typeof error, message: typeof error === 'string' ? error : stringify(error) };
}

/**
 * Every error report goes through here: one JSON line on stderr (always, so errors are
 * seen even when Sentry is down or not configured) and the backend, both redacted.
 */
export class ErrorReporter {
  constructor(
    private readonly logger: Logger,
    private readonly redactor: Redactor,
    readonly backend: ErrorBackend | undefined,
  ) {}

  exception(error: unknown, report: ExceptionReport): string | undefined {
    const request = report.request ? requestData(report.request, this.redactor) : undefined;
    const spanContext = report.spanContext ?? trace.getActiveSpan()?.spanContext();
    const { type, message, stack } = errorParts(error);
    this.logger.log(report.level === 'fatal' ? 'error' : report.level === 'warning' ? 'warn' : 'error', this.redactor.text(message), {
      error: { type, message: this.redactor.text(message), ...(stack ? { stack: this.redactor.text(stack) } : {}) },
      mechanism: report.mechanism,
      handled: report.handled,
      ...(request ? { request } : {}),
      ...(report.context !== undefined ? { context: this.redactor.value(report.context) } : {}),
      ...(spanContext ? { traceId: spanContext.traceId } : {}),
    });
    if (!this.backend) return undefined;
    // The backend links the event to the active span: make it the request's.
    const ctx = spanContext ? trace.setSpanContext(context.active(), spanContext) : context.active();
    return context.with(ctx, () => this.backend!.captureException(error, report, request));
  }

  message(message: string, level: Level, ctx?: unknown): string | undefined {
    const text = this.redactor.text(String(message));
    const severity = level === 'warning' ? 'warn' : level === 'fatal' || level === 'error' ? 'error' : level === 'debug' ? 'debug' : 'info';
    this.logger.log(severity, text, { captured: true, ...(ctx !== undefined ? { context: this.redactor.value(ctx) } : {}) });
    return this.backend?.captureMessage(message, level, ctx);
  }

  /** A breadcrumb is also an event on the active span: it shows in every trace backend, Sentry or not. */
  breadcrumb(crumb: Breadcrumb): void {
    const span = trace.getActiveSpan();
    if (span) {
      span.addEvent('breadcrumb', {
        'breadcrumb.message': this.redactor.text(crumb.message),
        'breadcrumb.category': crumb.category,
        ...(crumb.data ? { 'breadcrumb.data': stringify(this.redactor.value(crumb.data)) } : {}),
      });
    }
    this.backend?.addBreadcrumb(crumb);
  }

  flush(timeoutMs: number): Promise<unknown> {
    return this.backend ? this.backend.flush(timeoutMs) : Promise.resolve();
  }
}
