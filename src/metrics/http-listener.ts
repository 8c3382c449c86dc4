import { trace } from '@opentelemetry/api';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { requestError } from '../errors/request-errors';
import { errorClassName } from '../errors/name';
import { requestContextOf, type FinishListener } from '../http/requests';
import { methodLabel, routeLabel } from '../http/route';
import type { CatalogMetrics } from './families';

/**
 * The error's class when a handler error caused the 5xx (`TypeError`), else the status's
 * name (`InternalServerError` for 500): bounded, and says more on a dashboard than a number.
 */
function errorType(req: IncomingMessage, status: number): string {
  return errorClassName(requestError(req)?.error) ?? (STATUS_CODES[status] ?? `HTTP${status}`).replace(/[^A-Za-z0-9]/g, '');
}

/**
 * The catalog's HTTP rows, from each finished request of the app. `traced`: our server spans are
 * on, so a request may carry a span for the exemplars; without them no request does, and the
 * lookup (a missed symbol read, dear on Node 20's V8) is skipped.
 */
export function httpMetricsListener(metrics: CatalogMetrics, traced = true): FinishListener {
  const exemplars = traced && metrics.httpRequestDuration.keepsExemplars;
  return (request, response, seconds) => {
    const status = response.statusCode;
    const route = routeLabel(request);
    const labels = [methodLabel(request.method), route, String(status)];
    // The server span's ids, for the exemplars: absent without tracing, kept only when sampled.
    const ctx = exemplars ? requestContextOf(request) : undefined;
    const ids = ctx && trace.getSpanContext(ctx);
    metrics.httpRequests.inc(labels, 1, ids);
    metrics.httpRequestDuration.observe(labels, seconds, ids);
    if (status === 429) metrics.rateLimitHits.inc([route]);
    if (status >= 500) metrics.errors.inc([errorType(request, status), 'error'], 1, ids);
  };
}
