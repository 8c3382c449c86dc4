import type { Logger } from '../logging/logger';
import type { FinishListener } from './requests';
import { responseTraceId } from './response-time';
import { routeLabel } from './route';

/** The seed's "Slow request detected" line, for each request slower than the threshold. */
export function slowRequestListener(thresholdMs: number, logger: Logger): FinishListener {
  const threshold = thresholdMs / 1000;
  return (request, response, seconds) => {
    if (seconds <= threshold) return;
    const traceId = responseTraceId(request);
    logger.warn('Slow request detected', {
      method: request.method,
      route: routeLabel(request),
      duration: `${seconds.toFixed(2)}s`,
      statusCode: String(response.statusCode),
      ...(traceId ? { traceId } : {}),
    });
  };
}
