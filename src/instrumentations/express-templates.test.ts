import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { addMatchedPatternKey, routeLabel } from '../http/route';
import { ENTRY, ExpressTemplates, patchRouter, type RouterProto } from './express-templates';

type Handler = (req: Req, res: Res, next: (err?: unknown) => void) => unknown;
interface Req {
  method: string;
  url: string;
  headers: Record<string, string>;
  [key: string]: unknown;
}
interface Res {
  answer(): void;
}
interface AnyRouter {
  (req: Req, res: Res, done: (err?: unknown) => void): void;
  use(...args: unknown[]): AnyRouter;
  get(path: unknown, ...fns: Handler[]): AnyRouter;
  stack: Array<Record<string, unknown>>;
}

/** Routes one request; resolves with the route label once answered, or `done:<label>` when no layer answered. */
function hit(router: AnyRouter, url: string): Promise<string> {
  return new Promise((resolve) => {
    const req: Req = { method: 'GET', url, headers: {} };
    const res: Res = { answer: () => resolve(routeLabel(req as unknown as IncomingMessage)) };
    router(req, res, (err) => resolve(`done${err ? '(error)' : ''}:${routeLabel(req as unknown as IncomingMessage)}`));
  });
}

const answer: Handler = (_req, res) => res.answer();

// The real router of Express 5, patched as the instrumentation patches it.
const Router = require('router') as { (options?: object): AnyRouter; prototype: RouterProto };
const unknownShapes: string[] = [];
patchRouter(Router.prototype, ENTRY.router, () => unknownShapes.push('router'));
addMatchedPatternKey((require('router/lib/symbols.js') as { matchedRoute: symbol }).matchedRoute);

describe('express templates on router 2 (Express 5)', () => {
  it('joins nested mounts with their parameters, never the concrete values', async () => {
    const app = Router();
    const tenants = Router({ mergeParams: true });
    const tasks = Router({ mergeParams: true });
    tasks.get('/tasks/:taskId', answer);
    tenants.get('/profile', answer);
    tenants.use('/projects/:projectId', tasks);
    app.use('/api/tenants/:tenantKey', tenants);
    assert.equal(await hit(app, '/api/tenants/s3cret/profile'), '/api/tenants/:tenantKey/profile');
    assert.equal(await hit(app, '/api/tenants/s3cret/projects/p1/tasks/t1?x=1'), '/api/tenants/:tenantKey/projects/:projectId/tasks/:taskId');
  });

  it('names a router by the mount it was entered through', async () => {
    const app = Router();
    const shared = Router();
    shared.get('/profile', answer);
    app.use('/api/tenants/:tenantKey', shared);
    app.use('/api/t/:tenantKey/', shared);
    assert.equal(await hit(app, '/api/tenants/a/profile'), '/api/tenants/:tenantKey/profile');
    assert.equal(await hit(app, '/api/t/a/profile'), '/api/t/:tenantKey/profile');
  });

  it('leaves a mount as it found it: a route after it is not prefixed twice', async () => {
    const app = Router();
    const tenants = Router();
    app.use('/api/tenants/:tenantKey', (_req: Req, _res: Res, next: () => void) => next());
    app.use('/api/tenants/:tenantKey', tenants);
    app.get('/api/tenants/:tenantKey/other', answer);
    assert.equal(await hit(app, '/api/tenants/s3cret/other'), '/api/tenants/:tenantKey/other');
  });

  it('leaves a mount on an error too, and the failed route keeps its template', async () => {
    const app = Router();
    const tenants = Router();
    tenants.get('/fail', () => {
      throw new Error('boom');
    });
    app.use('/api/tenants/:tenantKey', tenants);
    assert.equal(await hit(app, '/api/tenants/s3cret/fail'), 'done(error):/api/tenants/:tenantKey/fail');
  });

  it('names a request answered outside the mount by the route it passed through inside', async () => {
    const app = Router();
    const tenants = Router();
    tenants.get('/profile', (_req, _res, next) => next());
    app.use('/api/tenants/:tenantKey', tenants);
    app.use((_req: Req, res: Res) => res.answer());
    assert.equal(await hit(app, '/api/tenants/s3cret/profile'), '/api/tenants/:tenantKey/profile');
  });

  it('is unmatched when nothing under the mount matched', async () => {
    const app = Router();
    const tenants = Router();
    tenants.get('/profile', answer);
    app.use('/api/tenants/:tenantKey', tenants);
    assert.equal(await hit(app, '/api/tenants/s3cret/nothing'), 'done:unmatched');
  });

  it('an array mount is named by the alternative that matched', async () => {
    const app = Router();
    const reports = Router();
    reports.get('/summary', answer);
    app.use(['/api/reports/:year', ['/api/archive/:year']], reports);
    assert.equal(await hit(app, '/api/reports/2024/summary'), '/api/reports/:year/summary');
    assert.equal(await hit(app, '/api/archive/2023/summary'), '/api/archive/:year/summary');
  });

  it('an array route is named by the alternative that matched', async () => {
    const app = Router();
    app.get(['/a/:x', '/b/:y'], answer);
    assert.equal(await hit(app, '/b/1'), '/b/:y');
  });

  it('a RegExp mount is its literal', async () => {
    const app = Router();
    const versioned = Router();
    versioned.get('/status', answer);
    app.use(/^\/api\/v\d+/, versioned);
    assert.equal(await hit(app, '/api/v2/status'), '/^\\/api\\/v\\d+/status');
  });

  it("costs routes and layers mounted at '/' nothing, and leaves layer.handle the app's own", () => {
    const app = Router();
    const child = Router();
    const middleware: Handler = (_req, _res, next) => next();
    app.use(middleware);
    app.use('/', child);
    app.use('/api', child);
    app.get('/x', answer);
    const [atRoot, childAtRoot, childAtApi, route] = app.stack;
    assert.equal(Object.hasOwn(atRoot!, ENTRY.router), false);
    assert.equal(Object.hasOwn(childAtRoot!, ENTRY.router), false);
    assert.equal(Object.hasOwn(childAtApi!, ENTRY.router), true);
    // A route's path is on req.route: its layer is left as router made it.
    assert.equal(Object.hasOwn(route!, ENTRY.router), false);
    assert.equal(atRoot!.handle, middleware);
    assert.equal(childAtApi!.handle, child);
    // Our entry point is not an enumerable key of the layer.
    assert.equal(Object.keys(childAtApi!).includes(ENTRY.router), false);
  });

  it("runs a later patch of the layers' prototype (express-async-errors style)", async () => {
    const Layer = Object.getPrototypeOf(Router().use('/m', () => {}).stack[0]) as Record<string, (...a: unknown[]) => unknown>;
    const original = Layer[ENTRY.router]!;
    let calls = 0;
    Layer[ENTRY.router] = function (this: unknown, ...args: unknown[]) {
      calls++;
      return original.apply(this, args);
    };
    try {
      const app = Router();
      const child = Router();
      child.get('/x', answer);
      app.use('/m/:id', child);
      assert.equal(await hit(app, '/m/1/x'), '/m/:id/x');
      assert.equal(calls, 3, "the mount's layer, the route's and its handler's");
    } finally {
      Layer[ENTRY.router] = original;
    }
  });

  it('a layer it cannot give an entry point (frozen) is reported, not thrown', () => {
    const app = Router();
    const before = unknownShapes.length;
    const push = Array.prototype.push;
    app.stack.push = function (this: unknown[], ...layers: unknown[]) {
      return push.apply(this, layers.map((l) => Object.freeze(l)));
    };
    assert.doesNotThrow(() => app.use('/frozen/:id', () => {}));
    assert.equal(unknownShapes.length, before + 1);
  });
});

/**
 * Express 4's router shape, in miniature: the router module is a function whose methods
 * live on itself, layers are entered through `handle_request`, and `use` disambiguates its
 * path argument as Express 4.21 does. Matching is simplified (segments, `:params`, arrays).
 */
function express4(): { Router: (() => AnyRouter) & RouterProto } {
  function compile(path: unknown, end: boolean): RegExp {
    const one = (p: string) => p.replace(/\/$/, '').replace(/:[A-Za-z]+/g, '[^/]+');
    const source = Array.isArray(path) ? path.map((p) => one(String(p))).join('|') : one(String(path));
    return new RegExp(`^(?:${source})${end ? '/?$' : '(?=/|$)'}`);
  }
  function Layer(this: Record<string, unknown>, path: unknown, options: { end: boolean }, fn: Handler) {
    this.handle = fn;
    this.regexp = compile(path, options.end);
    this.path = undefined;
  }
  Layer.prototype.match = function (this: { regexp: RegExp; path?: string }, path: string) {
    const m = this.regexp.exec(path);
    this.path = m ? m[0] : undefined;
    return m !== null;
  };
  Layer.prototype.handle_request = function (this: { handle: Handler }, req: Req, res: Res, next: (err?: unknown) => void) {
    const fn = this.handle;
    if (fn.length > 3) return next();
    try {
      fn(req, res, next);
    } catch (err) {
      next(err);
    }
  };
  const proto = function () {
    const router = function (req: Req, res: Res, next: (err?: unknown) => void) {
      (router as unknown as { handle(req: Req, res: Res, next: (err?: unknown) => void): void }).handle(req, res, next);
    } as unknown as AnyRouter;
    Object.setPrototypeOf(router, proto);
    router.stack = [];
    return router;
  } as unknown as (() => AnyRouter) & RouterProto & Record<string, unknown>;
  proto.use = function use(this: AnyRouter, fn: unknown, ...rest: unknown[]) {
    let path: unknown = '/';
    let callbacks = [fn, ...rest];
    let arg = fn;
    while (Array.isArray(arg) && arg.length !== 0) arg = arg[0];
    if (typeof arg !== 'function') {
      path = fn;
      callbacks = rest;
    }
    for (const cb of callbacks.flat(Infinity)) {
      const layer = new (Layer as unknown as new (...a: unknown[]) => Record<string, unknown>)(path, { end: false }, cb);
      layer.route = undefined;
      this.stack.push(layer);
    }
    return this;
  };
  proto.route = function route(this: AnyRouter, path: unknown) {
    const stack: Handler[] = [];
    const r = { path, stack, dispatch: (req: Req, res: Res, next: () => void) => stack[0]!(req, res, next) };
    const layer = new (Layer as unknown as new (...a: unknown[]) => Record<string, unknown>)(path, { end: true }, r.dispatch);
    layer.route = r;
    this.stack.push(layer);
    return { get: (fn: Handler) => stack.push(fn) };
  };
  proto.get = function (this: { route(p: unknown): { get(fn: Handler): void } }, path: unknown, fn: Handler) {
    this.route(path).get(fn);
    return this;
  };
  function handle(this: AnyRouter, req: Req, res: Res, out: (err?: unknown) => void) {
    const stack = this.stack;
    const parentUrl = (req.baseUrl as string | undefined) ?? '';
    let idx = 0;
    let removed = '';
    const next = (err?: unknown): void => {
      if (removed) {
        req.url = removed + req.url;
        req.baseUrl = parentUrl;
        removed = '';
      }
      const path = req.url.split('?')[0]!;
      let layer: Record<string, unknown> & { match(p: string): boolean } | undefined;
      while (idx < stack.length) {
        const candidate = stack[idx++] as typeof layer;
        if (candidate!.match(path)) {
          layer = candidate;
          break;
        }
      }
      if (!layer) return out(err);
      const enter = layer.handle_request as (req: Req, res: Res, next: (err?: unknown) => void) => void;
      if (layer.route) {
        req.route = layer.route;
        return enter.call(layer, req, res, next);
      }
      removed = layer.path as string;
      req.url = req.url.slice(removed.length) || '/';
      req.baseUrl = parentUrl + removed;
      enter.call(layer, req, res, next);
    };
    next();
  }
  proto.handle = handle;
  return { Router: proto };
}

describe('express templates on the Express 4 router shape', () => {
  const { Router: Router4 } = express4();
  const unknown: string[] = [];
  patchRouter(Router4, ENTRY.express4, () => unknown.push('express4'));

  it('joins nested mounts with their parameters through handle_request', async () => {
    const app = Router4();
    const tenants = Router4();
    const tasks = Router4();
    tasks.get('/tasks/:taskId', answer);
    tenants.get('/profile', answer);
    tenants.use('/projects/:projectId', tasks);
    app.use('/api/tenants/:tenantKey', tenants);
    app.get('/api/tenants/:tenantKey/other', answer);
    assert.equal(await hit(app, '/api/tenants/s3cret/profile'), '/api/tenants/:tenantKey/profile');
    assert.equal(await hit(app, '/api/tenants/s3cret/projects/p/tasks/t'), '/api/tenants/:tenantKey/projects/:projectId/tasks/:taskId');
    assert.equal(await hit(app, '/api/tenants/s3cret/other'), '/api/tenants/:tenantKey/other');
    assert.deepEqual(unknown, []);
  });

  it('names an array mount by all its alternatives, as it cannot tell which matched', async () => {
    const app = Router4();
    const reports = Router4();
    reports.get('/summary', answer);
    app.use(['/api/reports/:year', '/api/archive/:year'], reports);
    assert.equal(await hit(app, '/api/archive/2023/summary'), '/api/reports/:year,/api/archive/:year/summary');
  });

  it('reports a layer without handle_request (an unknown shape) once per layer, without throwing', () => {
    const app = Router4();
    const push = Array.prototype.push;
    app.stack.push = function (this: unknown[], ...layers: unknown[]) {
      return push.apply(this, layers.map(() => ({ handle: () => {} })));
    };
    assert.doesNotThrow(() => app.use('/odd/:id', () => {}));
    assert.deepEqual(unknown, ['express4']);
  });
});

describe('ExpressTemplates on module shapes it does not know', () => {
  it("patches nothing and throws nothing into the app's require or at shutdown, whatever the exports", () => {
    const instrumentation = new ExpressTemplates();
    instrumentation.disable();
    const definitions = instrumentation.getModuleDefinitions().flatMap((d) => [d, ...d.files]);
    const patches = definitions.map((d) => d.patch).filter((p) => p !== undefined);
    const unpatches = definitions.map((d) => d.unpatch).filter((u) => u !== undefined);
    assert.equal(patches.length, 3);
    assert.equal(unpatches.length, 3);
    for (const odd of [undefined, null, {}, { prototype: {} }, { prototype: { use: 1, route: null } }, Object.freeze({ prototype: Object.freeze({ use() {}, route() {} }) }), () => {}]) {
      for (const patch of patches) {
        assert.doesNotThrow(() => assert.equal(patch?.(odd as never, '2.0.0'), odd));
      }
      for (const unpatch of unpatches) assert.doesNotThrow(() => unpatch?.(odd as never, '2.0.0'));
    }
  });
});
