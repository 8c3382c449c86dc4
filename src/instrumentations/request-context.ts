import { context, type Context } from '@opentelemetry/api';
import type { EventEmitter } from 'node:events';
import { IncomingMessage, ServerResponse } from 'node:http';
import { REQUEST_CONTEXT } from '../http/requests';

/**
 * Every event of a server request and its response runs in the request's context: the body's
 * `data`/`end`, `close` and `aborted`, the response's `finish`/`close`, and so whatever the
 * listeners start (timers, promises, piped streams, client calls).
 *
 * Why not attaching the context to the connection alone: Node emits the body's events from the
 * HTTP parser's native callbacks, and each such callback restores the async context captured when
 * the parser was initialised for the connection. Under async_hooks, `enterWith` during the
 * `request` event stored the context on that same parser resource, so the later callbacks saw it;
 * under AsyncContextFrame (the default from Node 24) `enterWith` lasts only until the current
 * callback returns, and the body's events ran in the connection's (empty) context.
 *
 * Why not binding `req` and `res` (what instrumentation-http does): that patches five methods on
 * both emitters and wraps every listener, on every request. One wrap of each prototype's `emit`
 * costs a property read per event instead, and a `context.with` only for an event with listeners
 * while the request's context is not the current one (under async_hooks it mostly is, through the
 * connection; under AsyncContextFrame that is about one event per request, `end`).
 */
const CONTEXT = REQUEST_CONTEXT;
type Carrier = EventEmitter & { [CONTEXT]?: Context };
type Emit = (this: Carrier, event: string | symbol, ...args: unknown[]) => boolean;

export function setRequestContext(req: IncomingMessage, res: ServerResponse, ctx: Context): void {
  (req as unknown as Carrier)[CONTEXT] = ctx;
  (res as unknown as Carrier)[CONTEXT] = ctx;
}

/** Wraps both prototypes' `emit`; returns the undo. Client responses (also IncomingMessage) carry no context and pass through. */
export function installRequestContext(): () => void {
  const undo: Array<() => void> = [];
  for (const proto of [IncomingMessage.prototype, ServerResponse.prototype] as unknown as Array<{ emit: Emit }>) {
    const own = Object.prototype.hasOwnProperty.call(proto, 'emit');
    const original = proto.emit;
    const emit: Emit = function (this: Carrier, event) {
      const ctx = this[CONTEXT];
      // Most events find no listener ('readable', a consumed request's 'close') or the context already current.
      if (ctx === undefined || this.listenerCount(event) === 0 || context.active() === ctx) {
        return original.apply(this, arguments as unknown as [string]);
      }
      return context.with(ctx, original, this, ...(arguments as unknown as [string]));
    };
    proto.emit = emit;
    undo.push(() => {
      if (proto.emit !== emit) return;
      if (own) proto.emit = original;
      else delete (proto as Partial<typeof proto>).emit;
    });
  }
  return () => undo.forEach((u) => u());
}
