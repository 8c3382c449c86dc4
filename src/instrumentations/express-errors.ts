import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import { noteRequestError as note } from '../errors/request-errors';

type Fn = (...args: unknown[]) => unknown;

/**
 * Sees the errors of Express handlers without wrapping every layer: the error path of a
 * layer (Express 5's `router`, Express 4's own) and the router's final callback, where an
 * error nobody handled ends. Whether it becomes a 5xx is decided when the response ends.
 */
export class ExpressErrors extends InstrumentationBase {
  constructor() {
    super('@innatural/otel-express-errors', '1.0.0', {});
  }

  protected init() {
    const wrapHandleError = (layerProto: Record<string, Fn>, method: string) => {
      this._wrap(layerProto, method, (original: Fn) =>
        function (this: unknown, error: unknown, req: unknown, ...rest: unknown[]) {
          note(req, error);
          return original.call(this, error, req, ...rest);
        },
      );
    };
    const wrapRouterHandle = (routerProto: Record<string, Fn>) => {
      this._wrap(routerProto, 'handle', (original: Fn) =>
        function (this: unknown, req: unknown, res: unknown, callback: unknown) {
          if (typeof callback !== 'function') return original.call(this, req, res, callback);
          return original.call(this, req, res, function (this: unknown, err: unknown, ...rest: unknown[]) {
            note(req, err);
            return (callback as Fn).call(this, err, ...rest);
          });
        },
      );
    };
    const unwrap = (proto: object, method: string) => this._unwrap(proto as Record<string, Fn>, method);
    return [
      new InstrumentationNodeModuleDefinition(
        'router',
        ['>=2 <3'],
        (exports: { prototype: Record<string, Fn> }) => {
          wrapRouterHandle(exports.prototype);
          return exports;
        },
        (exports: { prototype: object }) => unwrap(exports.prototype, 'handle'),
        [
          new InstrumentationNodeModuleFile(
            'router/lib/layer.js',
            ['>=2 <3'],
            (exports: { prototype: Record<string, Fn> }) => {
              wrapHandleError(exports.prototype, 'handleError');
              return exports;
            },
            (exports: { prototype: object }) => unwrap(exports.prototype, 'handleError'),
          ),
        ],
      ),
      new InstrumentationNodeModuleDefinition('express', ['>=4 <5'], undefined, undefined, [
        new InstrumentationNodeModuleFile(
          'express/lib/router/layer.js',
          ['>=4 <5'],
          (exports: { prototype: Record<string, Fn> }) => {
            wrapHandleError(exports.prototype, 'handle_error');
            return exports;
          },
          (exports: { prototype: object }) => unwrap(exports.prototype, 'handle_error'),
        ),
        new InstrumentationNodeModuleFile(
          'express/lib/router/index.js',
          ['>=4 <5'],
          (exports: { prototype?: Record<string, Fn> } & Record<string, Fn>) => {
            // Express 4's router is a function whose methods live on the function itself.
            wrapRouterHandle((exports.prototype?.handle ? exports.prototype : exports) as Record<string, Fn>);
            return exports;
          },
          (exports: { prototype?: object }) => unwrap(exports.prototype ?? exports, 'handle'),
        ),
      ]),
    ];
  }
}
