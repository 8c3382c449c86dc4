import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, ServerResponse, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { isOwnServer } from '../tracing/ignore';
import type { CatalogMetrics } from './catalog-metrics';
import { methodLabel, routeLabel } from './route';

interface ServerMessage {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly server: Server;
}

const STARTED = Symbol('innatural.requestStart');
type Timed = IncomingMessage & { [STARTED]?: number };

/** `InternalServerError` for 500: bounded, and says more on a dashboard than a bare number. */
function errorType(status: number): string {
  return (STATUS_CODES[status] ?? `HTTP${status}`).replace(/[^A-Za-z0-9]/g, '');
}

/**
 * HTTP metrics from Node's own diagnostics channels: every request any http.Server of
 * the app answers, whether or not tracing is on or sampled, for about a microsecond
 * per request, with nothing patched.
 */
export function installHttpServerMetrics(metrics: CatalogMetrics): () => void {
  const onStart = (message: unknown) => {
    const { request, server } = message as ServerMessage;
    if (!isOwnServer(server)) (request as Timed)[STARTED] = performance.now();
  };
  const onFinish = (message: unknown) => {
    const { request, response } = message as ServerMessage;
    const started = (request as Timed)[STARTED];
    if (started === undefined) return;
    const seconds = (performance.now() - started) / 1000;
    const status = response.statusCode;
    const route = routeLabel(request);
    const labels = [methodLabel(request.method), route, String(status)];
    metrics.httpRequests.inc(labels);
    metrics.httpRequestDuration.observe(labels, seconds);
    if (status === 429) metrics.rateLimitHits.inc([route]);
    if (status >= 500) metrics.errors.inc([errorType(status), 'error']);
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
  };
}
