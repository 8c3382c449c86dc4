import { trace } from '@opentelemetry/api';
import { ServerResponse, type IncomingMessage } from 'node:http';
import { requestStart } from './requests';

const TRACE_ID = Symbol('innatural.traceId');
type Traced = IncomingMessage & { [TRACE_ID]?: string };

/** The trace id seen when the response headers went out (the handler's context), for the slow-request line. */
export function responseTraceId(req: IncomingMessage): string | undefined {
  return (req as Traced)[TRACE_ID];
}

/**
 * Sets `X-Response-Time: 12.34ms` on every response of the app's servers. Patched on
 * writeHead, which Node itself calls for implicit headers, so it holds for `res.end()`,
 * Express's `res.send()` and an explicit `res.writeHead()` alike, and always before the
 * headers leave. `header` undefined: only the trace id is noted (when tracing: there is none otherwise).
 */
export function installResponseTime(header: string | undefined, tracing: boolean): () => void {
  const proto = ServerResponse.prototype;
  const original = proto.writeHead;
  function writeHead(this: ServerResponse, ...args: unknown[]) {
    const req = this.req as IncomingMessage | undefined;
    const started = requestStart(req);
    if (started !== undefined && !this.headersSent) {
      if (header) this.setHeader(header, `${(performance.now() - started).toFixed(2)}ms`);
      if (tracing) {
        const span = trace.getActiveSpan();
        if (span) (req as Traced)[TRACE_ID] = span.spanContext().traceId;
      }
    }
    return (original as (...a: unknown[]) => ServerResponse).apply(this, args);
  }
  proto.writeHead = writeHead as typeof proto.writeHead;
  return () => {
    if (proto.writeHead === (writeHead as unknown)) proto.writeHead = original;
  };
}
