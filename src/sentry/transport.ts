import * as http from 'node:http';
import * as https from 'node:https';
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

type HttpModule = NonNullable<Parameters<typeof SentryNode.makeNodeTransport>[0]['httpModule']>;

/**
 * node:http for Sentry's transport, with the sockets of its requests unref'd: an envelope to a
 * Sentry that does not answer (its transport sets no request timeout) kept a script whose work
 * was done up for as long as the connection lasted. The flush at exit and at a signal or a crash
 * keeps the process up for its own budget instead.
 */
export const loopFreeHttp: HttpModule = {
  request(options, callback) {
    const secure = typeof options === 'object' && !(options instanceof URL) ? options.protocol === 'https:' : String(options).startsWith('https:');
    const req = (secure ? https : http).request(options as http.RequestOptions, callback as (res: http.IncomingMessage) => void);
    req.on('socket', (socket) => socket.unref());
    return req;
  },
};
