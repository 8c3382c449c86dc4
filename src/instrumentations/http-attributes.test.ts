import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { serverRequestAttributes, splitHost } from './http-attributes';

const request = (over: { method?: string; url?: string; headers?: Record<string, string | string[]>; httpVersion?: string } = {}) =>
  ({
    method: over.method ?? 'GET',
    url: over.url ?? '/api/users/1',
    headers: over.headers ?? { host: 'shop.example:8080' },
    httpVersion: over.httpVersion ?? '1.1',
    socket: { remoteAddress: '10.1.2.3', remotePort: 51000 },
  }) as unknown as IncomingMessage;

describe('serverRequestAttributes', () => {
  it('gives the stable HTTP server attributes without a URL object', () => {
    assert.deepEqual(serverRequestAttributes(request({ url: '/search?q=x&token=abc', headers: { host: 'shop.example:8080', 'user-agent': 'curl/8' } }), 'http'), {
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
      'url.path': '/search',
      'url.query': 'q=x&token=abc',
      'server.address': 'shop.example',
      'server.port': 8080,
      'client.address': '10.1.2.3',
      'network.peer.address': '10.1.2.3',
      'network.peer.port': 51000,
      'user_agent.original': 'curl/8',
    });
  });

  it('names unknown methods _OTHER with the original beside, and upper-cases known ones', () => {
    const odd = serverRequestAttributes(request({ method: 'PURGE' }), 'http');
    assert.equal(odd['http.request.method'], '_OTHER');
    assert.equal(odd['http.request.method_original'], 'PURGE');
    const lower = serverRequestAttributes(request({ method: 'get' }), 'http');
    assert.equal(lower['http.request.method'], 'GET');
    assert.equal(lower['http.request.method_original'], 'get');
  });

  it('takes the server from Forwarded, then X-Forwarded-Host, then Host; the client from Forwarded, then X-Forwarded-For', () => {
    const fwd = serverRequestAttributes(request({ headers: { forwarded: 'for="[2001:db8::1]:4711";proto=https;host=api.example', host: 'internal:80' } }), 'http');
    assert.equal(fwd['server.address'], 'api.example');
    assert.equal(fwd['server.port'], 443);
    assert.equal(fwd['client.address'], '2001:db8::1');
    const xf = serverRequestAttributes(request({ headers: { 'x-forwarded-host': 'edge.example', 'x-forwarded-proto': 'https', 'x-forwarded-for': '198.51.100.7:5555, 10.0.0.1', host: 'internal' } }), 'http');
    assert.equal(xf['server.address'], 'edge.example');
    assert.equal(xf['server.port'], 443);
    assert.equal(xf['client.address'], '198.51.100.7');
    const none = serverRequestAttributes(request({ headers: {} }), 'https');
    assert.equal(none['server.address'], undefined);
    assert.equal(none['client.address'], '10.1.2.3');
  });

  it('keeps a bare ? out of url.query and takes the first of repeated headers', () => {
    const attrs = serverRequestAttributes(request({ url: '/x?', headers: { host: 'a.example', 'x-forwarded-for': ['192.0.2.1', '192.0.2.2'] } }), 'https');
    assert.equal(attrs['url.path'], '/x');
    assert.equal(attrs['url.query'], undefined);
    assert.equal(attrs['client.address'], '192.0.2.1');
    assert.equal(attrs['server.port'], 443);
  });

  it('takes url.path and url.query from a proxy’s absolute-form target, as instrumentation-http does', () => {
    const table: Array<[target: string, path: string, query: string | undefined]> = [
      ['http://abs.example/a/b?z=1', '/a/b', 'z=1'],
      ['https://abs.example', '/', undefined],
      ['http://abs.example?z=2', '/', 'z=2'],
      ['*', '*', undefined],
    ];
    for (const [url, path, query] of table) {
      const attrs = serverRequestAttributes(request({ url, headers: {} }), 'http');
      assert.deepEqual([attrs['url.path'], attrs['url.query']], [path, query], url);
    }
  });
});

describe('splitHost', () => {
  it('splits names, IPv4 and bracketed IPv6, with the scheme default when no port is given', () => {
    assert.deepEqual(splitHost('example.com', 'http'), { host: 'example.com', port: 80 });
    assert.deepEqual(splitHost('example.com:8443', 'https'), { host: 'example.com', port: 8443 });
    assert.deepEqual(splitHost('[::1]:3000', 'http'), { host: '[::1]', port: 3000 });
    assert.deepEqual(splitHost('[::1]', 'https'), { host: '[::1]', port: 443 });
    assert.deepEqual(splitHost('::1', undefined), { host: '::1' });
    assert.deepEqual(splitHost('example.com:99999', 'http'), { host: 'example.com' });
  });
});
