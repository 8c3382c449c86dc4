import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeTemplate } from '../http/route';

interface Route {
  readonly path: unknown;
}

type Dispatch = (this: Route, req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void) => unknown;

export const EXPRESS_SCOPE = '@innatural/otel-express';

/**
 * One span per matched route (`request handler - /api/users/:id`) and `http.route` on the
 * server span, from a single wrap of the router's Route#dispatch. The stock express
 * instrumentation wraps every middleware layer of every request, which costs more than
 * all the rest of the tracing (INNATURAL_EXPRESS_LAYER_SPANS=true brings it back).
 * The template, mounts included, is the one ExpressTemplates keeps on the request.
 */
export class ExpressRoutes extends InstrumentationBase {
  constructor() {
    super(EXPRESS_SCOPE, '1.0.0', {});
  }

  protected init() {
    const instrumentation = this;
    const patch = (proto: { dispatch: Dispatch }) => {
      this._wrap(proto, 'dispatch', (original: Dispatch) =>
        function dispatch(this: Route, req, res, done) {
          const route = routeTemplate(req, this);
          const rpc = getRPCMetadata(context.active());
          if (rpc?.type === RPCType.HTTP) rpc.route = route;
          const span = instrumentation.tracer.startSpan(`request handler - ${route}`, {
            attributes: { 'http.route': route, 'express.name': route, 'express.type': 'request_handler' },
          });
          let ended = false;
          const end = (err?: unknown) => {
            if (ended) return;
            ended = true;
            if (err instanceof Error) {
              span.recordException(err);
              span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
            }
            span.end();
          };
          res.once('finish', end);
          res.once('close', end);
          return context.with(trace.setSpan(context.active(), span), () =>
            original.call(this, req, res, function (this: unknown, err?: unknown) {
              // Leaving the route (next(), next('route') or an error): the handler's part is over.
              end(err);
              return done.apply(this, arguments as unknown as [unknown]);
            }),
          );
        },
      );
    };
    const unpatch = (exports: { prototype: { dispatch: Dispatch } }) => this._unwrap(exports.prototype, 'dispatch');
    const file = (name: string, versions: string[]) =>
      new InstrumentationNodeModuleFile(
        name,
        versions,
        (exports: { prototype: { dispatch: Dispatch } }) => {
          patch(exports.prototype);
          return exports;
        },
        unpatch,
      );
    return [
      new InstrumentationNodeModuleDefinition('router', ['>=2 <3'], undefined, undefined, [file('router/lib/route.js', ['>=2 <3'])]),
      // Express 5 routes through the router package above; its own file is 4's. The range says both
      // majors are covered (versions.ts reads it), the file's which one it patches.
      new InstrumentationNodeModuleDefinition('express', ['>=4 <6'], undefined, undefined, [file('express/lib/router/route.js', ['>=4 <5'])]),
    ];
  }
}
