import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import {
  addMatchedPatternKey,
  enterMount,
  joinRoute,
  leaveMount,
  methodLabel,
  mountTemplate,
  routeLabel,
  routeOfLabel,
  routePathTemplate,
  routeTemplate,
  UNMATCHED,
} from './route';

function req(fields: { route?: unknown; baseUrl?: unknown }): IncomingMessage {
  return fields as unknown as IncomingMessage;
}

/** A request as Express leaves it, with the mount templates of the layers it is inside. */
function inside(mounts: unknown[], fields: { route?: unknown; baseUrl?: unknown; url?: string } = {}): IncomingMessage {
  const r = req(fields);
  for (const m of mounts) enterMount(r, mountTemplate(m, r));
  return r;
}

describe('routeLabel', () => {
  it("is 'unmatched' when no route matched", () => {
    assert.equal(UNMATCHED, 'unmatched');
    assert.equal(routeLabel(req({})), 'unmatched');
    assert.equal(routeLabel(req({ baseUrl: '/api' })), 'unmatched');
    assert.equal(routeLabel(req({ route: undefined, baseUrl: '' })), 'unmatched');
    assert.equal(routeLabel(req({ route: {} })), 'unmatched');
    assert.equal(routeLabel(inside(['/api/tenants/:tenantKey'], { baseUrl: '/api/tenants/s3cret' })), 'unmatched');
  });

  it('is the route template when not mounted', () => {
    assert.equal(routeLabel(req({ route: { path: '/users/:id' }, baseUrl: '' })), '/users/:id');
    assert.equal(routeLabel(req({ route: { path: '/users/:id' } })), '/users/:id');
    assert.equal(routeLabel(req({ route: { path: '/' }, baseUrl: '' })), '/');
  });

  it('prefixes the mount templates, never the concrete mount path in req.baseUrl', () => {
    assert.equal(routeLabel(inside(['/api'], { route: { path: '/chat' }, baseUrl: '/api' })), '/api/chat');
    const r = inside(['/api/tenants/:tenantKey'], { route: { path: '/profile' }, baseUrl: '/api/tenants/s3cret' });
    assert.equal(routeLabel(r), '/api/tenants/:tenantKey/profile');
    // Without a mount template known, the route's own path: a concrete baseUrl is never used.
    assert.equal(routeLabel(req({ route: { path: '/profile' }, baseUrl: '/api/tenants/s3cret' })), '/profile');
  });

  it('keeps the template of a route matched inside a mount for an answer given after leaving it', () => {
    const r = inside(['/api/tenants/:tenantKey']) as IncomingMessage & { route?: unknown };
    r.route = { path: '/profile' };
    // next() from the route, out of the router: a handler outside answers.
    leaveMount(r, undefined, undefined);
    assert.equal(routeLabel(r), '/api/tenants/:tenantKey/profile');
    // A later route, matched outside, is its own.
    r.route = { path: '/api/fallback' };
    assert.equal(routeLabel(r), '/api/fallback');
  });

  it('does not prefix a route matched before the mount was entered', () => {
    const route = { path: '/api/users/:id' };
    const r = req({ route });
    const previous = enterMount(r, '/api/tenants/:tenantKey');
    leaveMount(r, previous, route);
    assert.equal(routeLabel(r), '/api/users/:id');
  });

  it("is the mount template alone for path '/' under a mount", () => {
    assert.equal(routeLabel(inside(['/api'], { route: { path: '/' } })), '/api');
    assert.equal(routeLabel(inside(['/api/tenants/:tenantKey/'], { route: { path: '/' } })), '/api/tenants/:tenantKey');
  });

  it('stringifies a RegExp path', () => {
    assert.equal(routeLabel(req({ route: { path: /^\/files\/.*$/ }, baseUrl: '' })), '/^\\/files\\/.*$/');
    assert.equal(routeLabel(inside(['/api'], { route: { path: /\/x/ } })), '/api/\\/x/');
  });

  it('never uses the raw URL', () => {
    const r = { url: '/users/12345?x=1', route: { path: '/users/:id' }, baseUrl: '' };
    assert.equal(routeLabel(r as unknown as IncomingMessage), '/users/:id');
    assert.equal(routeLabel({ url: '/users/12345' } as unknown as IncomingMessage), 'unmatched');
  });
});

describe('route templates through nested mounts', () => {
  it('joins every mount above the route: router in router in app, several parameters', () => {
    const r = inside(['/api/tenants/:tenantKey', '/projects/:projectId'], { route: { path: '/tasks/:taskId' } });
    assert.equal(routeLabel(r), '/api/tenants/:tenantKey/projects/:projectId/tasks/:taskId');
  });

  it("skips mounts at '/' and trims trailing slashes as req.baseUrl does", () => {
    assert.equal(routeLabel(inside(['/', '/v1/', '/'], { route: { path: '/items/:id' } })), '/v1/items/:id');
    assert.equal(mountTemplate('/'), '');
    assert.equal(mountTemplate('/api//'), '/api');
    assert.equal(mountTemplate(''), '');
  });

  it('restores the parent template on leaving a mount, so a later route is not prefixed twice', () => {
    const r = req({});
    const outer = enterMount(r, '/api/tenants/:tenantKey');
    const inner = enterMount(r, '/projects/:projectId');
    leaveMount(r, inner, undefined);
    assert.equal(routeTemplate(r, { path: '/other' }), '/api/tenants/:tenantKey/other');
    leaveMount(r, outer, undefined);
    assert.equal(routeTemplate(r, { path: '/api/tenants/:tenantKey/other' }), '/api/tenants/:tenantKey/other');
  });

  it('a RegExp mount is its literal, without a doubled slash before the route', () => {
    assert.equal(mountTemplate(/^\/api\/v\d+/), '/^\\/api\\/v\\d+/');
    assert.equal(routeLabel(inside([/^\/api\/v\d+/], { route: { path: '/status' } })), '/^\\/api\\/v\\d+/status');
    assert.equal(routeLabel(inside([/^\/api\/v\d+/i], { route: { path: '/status' } })), '/^\\/api\\/v\\d+/i/status');
  });

  it('an array mount is the alternative that matched when the router says which, else all of them', () => {
    const key = Symbol('router.tracing.matchedRoute');
    addMatchedPatternKey(key);
    const alternatives = ['/api/reports/:year', ['/api/archive/:year/']];
    const told = req({ route: { path: '/summary' } }) as unknown as Record<symbol, unknown>;
    told[key] = '/api/archive/:year/';
    enterMount(told as unknown as IncomingMessage, mountTemplate(alternatives, told as unknown as IncomingMessage));
    assert.equal(routeLabel(told as unknown as IncomingMessage), '/api/archive/:year/summary');
    // A pattern that is not one of the alternatives (left by another layer) is not taken.
    const stale = req({}) as unknown as Record<symbol, unknown>;
    stale[key] = '/elsewhere';
    assert.equal(mountTemplate(alternatives, stale as unknown as IncomingMessage), '/api/reports/:year,/api/archive/:year');
    assert.equal(mountTemplate(alternatives), '/api/reports/:year,/api/archive/:year');
  });

  it('an array route is the alternative that matched, else the alternatives as Express 4 names them', () => {
    const key = Symbol('router.tracing.matchedRoute');
    addMatchedPatternKey(key);
    const r = req({}) as unknown as Record<symbol, unknown>;
    r[key] = '/b/:y';
    assert.equal(routePathTemplate(['/a/:x', '/b/:y'], r as unknown as IncomingMessage), '/b/:y');
    assert.equal(routePathTemplate(['/a/:x', '/b/:y']), '/a/:x,/b/:y');
    assert.equal(routePathTemplate(['/a', /b/]), '/a,/b/');
  });
});

describe('joinRoute', () => {
  const table: Array<[string, string, string]> = [
    ['', '/users/:id', '/users/:id'],
    ['', '/', '/'],
    ['/api', '/', '/api'],
    ['/api', '', '/api'],
    ['/api', '/chat', '/api/chat'],
    ['/api', '/\\/x/', '/api/\\/x/'],
    ['/^\\/v\\d+/', '/status', '/^\\/v\\d+/status'],
    ['/a/:x', '/b/:y/', '/a/:x/b/:y/'],
  ];
  for (const [prefix, path, joined] of table) {
    it(`${JSON.stringify(prefix)} + ${JSON.stringify(path)} = ${JSON.stringify(joined)}`, () => assert.equal(joinRoute(prefix, path), joined));
  }
});

describe('routeOfLabel', () => {
  const table: Array<[string, string]> = [
    ['/api/chat', '/api/chat'],
    ['/api/reset?token=s3cret', '/api/reset'],
    ['/api/reset?', '/api/reset'],
    ['/api/reset#s3cret', '/api/reset'],
    ['/api/reset#frag?token=s3cret', '/api/reset'],
    ['/api/reset?token=s3cret#frag', '/api/reset'],
    ['?token=s3cret', ''],
    ['https://user:s3cret@host.example:8443/api/x?token=s3cret', '/api/x'],
    ['http://host.example', '/'],
    ['HTTP://host.example/a', '/a'],
    ['/users/:id', '/users/:id'],
    ['chat', 'chat'],
    // Not a scheme: a path segment with a colon, or a relative reference.
    ['/a://b', '/a://b'],
  ];
  for (const [input, output] of table) {
    it(`${JSON.stringify(input)} -> ${JSON.stringify(output)}`, () => assert.equal(routeOfLabel(input), output));
  }
});

describe('methodLabel', () => {
  it('keeps the standard methods', () => {
    for (const m of ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']) {
      assert.equal(methodLabel(m), m);
    }
  });

  it('maps anything else to _OTHER', () => {
    assert.equal(methodLabel('PROPFIND'), '_OTHER');
    assert.equal(methodLabel('get'), '_OTHER');
    assert.equal(methodLabel('Post'), '_OTHER');
    assert.equal(methodLabel(''), '_OTHER');
    assert.equal(methodLabel(undefined), '_OTHER');
    assert.equal(methodLabel('GET '), '_OTHER');
  });
});
