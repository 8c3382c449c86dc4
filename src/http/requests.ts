import type { Context } from '@opentelemetry/api';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { isOwnServer } from './own-traffic';

interface ServerMessage {
  readonly request: IncomingMessage;
  readonly response: ServerResponse;
  readonly server: Server;
}

const STARTED = Symbol('innatural.requestStart');

/**
 * The request's OpenTelemetry context (its server span's), on the request and on its response:
 * set by our server-span instrumentation, read by its event wrap and by the metrics (exemplars).
 */
export const REQUEST_CONTEXT = Symbol('innatural.requestContext');
type WithContext = { [REQUEST_CONTEXT]?: Context };

export function requestContextOf(req: IncomingMessage): Context | undefined {
  return (req as WithContext)[REQUEST_CONTEXT];
}

type Timed = IncomingMessage & { [STARTED]?: number };

/** performance.now() when the app's server received the request; undefined for our own servers. */
export function requestStart(req: IncomingMessage | undefined): number | undefined {
  return (req as Timed | undefined)?.[STARTED];
}

export type FinishListener = (req: IncomingMessage, res: ServerResponse, seconds: number) => void;

/**
 * One subscription to Node's http.server diagnostics channels, shared by everything
 * that times the app's requests (metrics, slow-request log, X-Response-Time): every
 * http.Server of the app, with nothing patched and whether or not tracing is on.
 * `skip` excludes requests that are not the app's (our own routes on its port).
 */
export function installRequestTiming(listeners: readonly FinishListener[], skip: (req: IncomingMessage) => boolean): () => void {
  const onStart = (message: unknown) => {
    const { request, server } = message as ServerMessage;
    if (!isOwnServer(server) && !skip(request)) (request as Timed)[STARTED] = performance.now();
  };
  const onFinish = (message: unknown) => {
    const { request, response } = message as ServerMessage;
    const started = (request as Timed)[STARTED];
    if (started === undefined) return;
    const seconds = (performance.now() - started) / 1000;
    for (const listener of listeners) {
      try {
        listener(request, response, seconds);
      } catch {
        // telemetry must never break a response
      }
    }
  };
  subscribe('http.server.request.start', onStart);
  subscribe('http.server.response.finish', onFinish);
  return () => {
    unsubscribe('http.server.request.start', onStart);
    unsubscribe('http.server.response.finish', onFinish);
  };
}
