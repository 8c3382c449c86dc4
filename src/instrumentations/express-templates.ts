import { InstrumentationBase, InstrumentationNodeModuleDefinition, InstrumentationNodeModuleFile } from '@opentelemetry/instrumentation';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { addMatchedPatternKey, enterMount, leaveMount, mountTemplate, type RegisteredPath } from '../http/route';

type Fn = (...args: unknown[]) => unknown;
type Next = (err?: unknown) => unknown;
type Handle = (this: Layer, req: IncomingMessage, res: ServerResponse, next: Next) => unknown;

type Layer = object;

export interface RouterProto {
  use: Fn;
}

/** Where each router shape keeps a layer's entry point, the one place a matched layer is entered. */
export const ENTRY = { router: 'handleRequest', express4: 'handle_request' } as const;
export type Entry = (typeof ENTRY)[keyof typeof ENTRY];

/** The path `use()` registers its layers under, disambiguated as router and Express 4 both do. */
function usePath(args: ArrayLike<unknown>): RegisteredPath {
  const first = args[0];
  let arg = first;
  while (Array.isArray(arg) && arg.length !== 0) arg = arg[0];
  return typeof arg === 'function' ? '/' : first;
}

/**
 * Gives one layer its own entry point, ahead of the prototype's: only layers that add to a
 * template (mounted at a path other than `/`) pay anything per request, and `layer.handle`, which
 * the app and other tools read (`handle.stack`), stays the app's function. The prototype's
 * entry is looked up at each call, so a later patch of it (express-async-errors) still runs.
 */
function own(layer: object, entry: Entry, value: Handle): void {
  Object.defineProperty(layer, entry, { value, writable: true, configurable: true, enumerable: false });
}

function enterMountedLayer(layer: object, entry: Entry, path: RegisteredPath): void {
  // Which alternative of an array path matched is known per request only.
  const fixed = Array.isArray(path) ? undefined : mountTemplate(path);
  // Mounted at `/`: adds nothing, costs nothing.
  if (fixed === '') return;
  const proto = Object.getPrototypeOf(layer) as Record<Entry, Handle>;
  own(layer, entry, function (req, res, next) {
    const routeOnEntry = (req as { route?: unknown }).route;
    const previous = enterMount(req, fixed ?? mountTemplate(path, req));
    // Leaving the layer (next(), an error, the router's exit): the parent's template again.
    return proto[entry].call(this, req, res, function (this: unknown) {
      leaveMount(req, previous, routeOnEntry);
      return next.apply(this, arguments as unknown as [unknown]);
    });
  });
}

/** Our wrapper of each method, to undo it. */
const ORIGINAL = Symbol('innatural.expressTemplates.original');
type Wrapped = Fn & { [ORIGINAL]?: Fn };

/**
 * Not shimmer's `_wrap`: the stock express instrumentation (INNATURAL_EXPRESS_LAYER_SPANS)
 * unwraps any shimmer-marked `use` before wrapping it itself, which would drop ours. An
 * unmarked wrapper stays, inside theirs.
 */
function wrap(proto: RouterProto, name: 'use', make: (original: Fn) => Fn): void {
  const original = proto[name];
  if (typeof original !== 'function' || (original as Wrapped)[ORIGINAL]) return;
  const wrapped: Wrapped = make(original);
  wrapped[ORIGINAL] = original;
  proto[name] = wrapped;
}

/** Only while ours is outermost: a wrapper over it still calls it, and it stays correct. */
function unwrap(proto: RouterProto | undefined, name: 'use'): void {
  const original = (proto?.[name] as Wrapped | undefined)?.[ORIGINAL];
  if (proto && original) proto[name] = original;
}

/**
 * Wraps a router prototype's `use` (router 2's `Router.prototype`, Express 4's router
 * function), so that each layer it mounts enters the request's templates. Routes need
 * nothing: their path is on `req.route`. `unknown` is told of a layer without the entry
 * point: a shape we do not know.
 */
export function patchRouter(proto: RouterProto, entry: Entry, unknown: () => void): void {
  const lengthOf = (router: { stack?: unknown }) => (Array.isArray(router.stack) ? router.stack.length : 0);
  const added = (router: { stack?: unknown }, before: number, each: (layer: Layer) => void) => {
    const stack = router.stack;
    if (!Array.isArray(stack)) return unknown();
    for (let i = before; i < stack.length; i++) {
      const layer: unknown = stack[i];
      // A layer without the entry point would never be entered through ours: left alone.
      if (layer === null || typeof layer !== 'object' || typeof (Object.getPrototypeOf(layer) as Record<string, unknown>)[entry] !== 'function') {
        unknown();
        continue;
      }
      try {
        each(layer as Layer);
      } catch {
        // A frozen layer, say: the app's registration has happened; only its template is lost.
        unknown();
      }
    }
  };
  wrap(proto, 'use', (original) =>
    function use(this: { stack?: unknown }, ...args: unknown[]) {
      const before = lengthOf(this);
      const result = original.apply(this, args);
      const path = usePath(args);
      added(this, before, (layer) => enterMountedLayer(layer, entry, path));
      return result;
    },
  );
}

export function unpatchRouter(proto: RouterProto | undefined): void {
  unwrap(proto, 'use');
}

/**
 * Full route templates, mount parameters included (`/api/tenants/:tenantKey/profile`), for
 * the `route` label, `http.route` and span names. Express's `req.baseUrl` holds the concrete
 * mount path (a tenant key, a token), so the template is collected from the paths the app
 * mounts at: `use()` gives each new layer mounted at a path its own entry point, which
 * records the template on the request while the request is inside it.
 * Loaded whatever the tracing setup, as the HTTP metrics need it too.
 */
export class ExpressTemplates extends InstrumentationBase {
  constructor() {
    super('@innatural/otel-express-templates', '1.0.0', {});
  }

  protected init() {
    // Runs inside the app's require() of the router: a failure here must not become the app's.
    const patch = (proto: RouterProto | undefined, entry: Entry) => {
      try {
        if (typeof proto?.use !== 'function') return this.warnOnce(entry);
        patchRouter(proto, entry, () => this.warnOnce(entry));
      } catch {
        this.warnOnce(entry);
      }
    };
    const unpatch = unpatchRouter;
    return [
      new InstrumentationNodeModuleDefinition(
        'router',
        ['>=2 <3'],
        (moduleExports: { prototype?: RouterProto } | undefined) => {
          patch(moduleExports?.prototype, ENTRY.router);
          return moduleExports;
        },
        (moduleExports: { prototype?: RouterProto } | undefined) => unpatch(moduleExports?.prototype),
        [
          // router >= 2.3 names the alternative of an array path that matched; older ones do not.
          new InstrumentationNodeModuleFile(
            'router/lib/symbols.js',
            ['>=2 <3'],
            (moduleExports: { matchedRoute?: unknown } | undefined) => {
              if (typeof moduleExports?.matchedRoute === 'symbol') addMatchedPatternKey(moduleExports.matchedRoute);
              return moduleExports;
            },
            () => {},
          ),
        ],
      ),
      new InstrumentationNodeModuleDefinition('express', ['>=4 <5'], undefined, undefined, [
        new InstrumentationNodeModuleFile(
          'express/lib/router/index.js',
          ['>=4 <5'],
          (moduleExports: (RouterProto & { prototype?: RouterProto }) | undefined) => {
            // Express 4's router is a function whose methods live on the function itself.
            patch(moduleExports?.prototype?.use ? moduleExports.prototype : moduleExports, ENTRY.express4);
            return moduleExports;
          },
          (moduleExports: (RouterProto & { prototype?: RouterProto }) | undefined) =>
            unpatch(moduleExports?.prototype?.use ? moduleExports.prototype : moduleExports),
        ),
      ]),
    ];
  }

  private warned = false;

  private warnOnce(entry: Entry): void {
    if (this.warned) return;
    this.warned = true;
    this._diag.warn(`Express router of an unknown shape (no layer stack with ${entry}()): route labels and http.route lack mount paths`);
  }
}
