import type * as SentryNode from '@sentry/node';
import { untraced } from '../export/untraced';
import { describeError, type Logger } from '../logging/logger';
import { RateLimiter } from '../logging/rate-limit';

type Transport = ReturnType<typeof SentryNode.makeNodeTransport>;

const WARN_EVERY_MS = 60_000;

/**
 * Sentry's transport drops what it cannot deliver without a word. One warning per minute
 * names the cause, so an outage is visible; the errors themselves are still logged here.
 */
export function warnOnFailure(transport: Transport, logger: Logger, limiter = new RateLimiter(WARN_EVERY_MS)): Transport {
  const warn = (cause: string) => {
    const held = limiter.take('sentry-delivery');
    if (held === undefined) return;
    const more = held > 0 ? ` (${held} more failure(s) since the last warning)` : '';
    logger.warn(`Sentry delivery failed: ${cause}; events are dropped until it recovers, errors are still logged here${more}`);
  };
  return {
    ...transport,
    send(envelope) {
      return Promise.resolve(transport.send(envelope)).then(
        (response) => {
          const status = response?.statusCode;
          if (status !== undefined && status >= 400 && status !== 429) warn(`ingestion answered ${status}`);
          return response;
        },
        (err: unknown) => {
          warn(describeError(err));
          throw err;
        },
      );
    },
  };
}

/**
 * Sentry's transport posts from wherever an event was captured: inside an app request, so
 * the http instrumentation made a client span of the envelope POST (`url.full` with the
 * DSN key) and injected the request's traceparent and baggage into it. Its own
 * `suppressTracing` works on Sentry's scopes, which OpenTelemetry's instrumentations do
 * not read; every send runs outside the app's trace instead.
 */
export function untracedTransport(transport: Transport): Transport {
  return { ...transport, send: (envelope) => untraced(() => transport.send(envelope)) };
}
