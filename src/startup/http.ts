import { isHealthPath } from '../ops/routes';
import { installRequestTiming, type FinishListener } from '../http/requests';
import { installResponseTime } from '../http/response-time';
import { slowRequestListener } from '../http/slow-requests';
import { httpMetricsListener } from '../metrics/http-listener';
import type { Errors } from './errors';
import type { Globals } from './globals';
import type { Metrics } from './metrics';
import { part, type Part } from './part';
import type { Tracing } from './tracing';

/** What is measured of every request the app serves: slow requests, 5xx errors, the HTTP metrics, the timing header. */
export function startHttpTiming({ config, logger }: Globals, { pipeline }: Metrics, errors: Errors, tracing: Tracing): Part {
  return part(logger, (undo) => {
    // With INNATURAL_APP_ROUTES our paths on the app's port are ours, not the app's traffic.
    const notAppTraffic = config.health.appRoutes ? (req: { url?: string }) => isHealthPath(req.url) : () => false;
    const finishListeners: FinishListener[] = [slowRequestListener(config.http.slowRequestMs, logger), errors.listener];
    if (pipeline) finishListeners.push(httpMetricsListener(pipeline.catalog, tracing.enabled));
    undo.push(installRequestTiming(finishListeners, notAppTraffic));
    undo.push(installResponseTime(config.http.responseTimeHeader, tracing.enabled));
    return {};
  });
}
