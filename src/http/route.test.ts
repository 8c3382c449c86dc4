import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { methodLabel, routeLabel, UNMATCHED } from './route';

function req(fields: { route?: unknown; baseUrl?: unknown }): IncomingMessage {
  return fields as unknown as IncomingMessage;
}

describe('routeLabel', () => {
  it("is 'unmatched' when no route matched", () => {
    assert.equal(UNMATCHED, 'unmatched');
    assert.equal(routeLabel(req({})), 'unmatched');
    assert.equal(routeLabel(req({ baseUrl: '/api' })), 'unmatched');
    assert.equal(routeLabel(req({ route: undefined, baseUrl: '' })), 'unmatched');
    assert.equal(routeLabel(req({ route: {} })), 'unmatched');
  });

  it('is the route template when not mounted (baseUrl empty or missing)', () => {
    assert.equal(routeLabel(req({ route: { path: '/users/:id' }, baseUrl: '' })), '/users/:id');
    assert.equal(routeLabel(req({ route: { path: '/users/:id' } })), '/users/:id');
    assert.equal(routeLabel(req({ route: { path: '/' }, baseUrl: '' })), '/');
  });

  it('prefixes the mount path', () => {
    assert.equal(routeLabel(req({ route: { path: '/chat' }, baseUrl: '/api' })), '/api/chat');
    assert.equal(routeLabel(req({ route: { path: '/:id/items' }, baseUrl: '/api/v1/users' })), '/api/v1/users/:id/items');
  });

  it("is the mount path alone for path '/' under a mount", () => {
    assert.equal(routeLabel(req({ route: { path: '/' }, baseUrl: '/api' })), '/api');
  });

  it('stringifies a RegExp path', () => {
    assert.equal(routeLabel(req({ route: { path: /^\/files\/.*$/ }, baseUrl: '' })), '/^\\/files\\/.*$/');
    assert.equal(routeLabel(req({ route: { path: /\/x/ }, baseUrl: '/api' })), '/api/\\/x/');
  });

  it('ignores a non-string baseUrl', () => {
    assert.equal(routeLabel(req({ route: { path: '/a' }, baseUrl: 42 })), '/a');
  });

  it('never uses the raw URL', () => {
    const r = { url: '/users/12345?x=1', route: { path: '/users/:id' }, baseUrl: '' };
    assert.equal(routeLabel(r as unknown as IncomingMessage), '/users/:id');
    assert.equal(routeLabel({ url: '/users/12345' } as unknown as IncomingMessage), 'unmatched');
  });
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
