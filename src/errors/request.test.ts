import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { enterMount } from '../http/route';
import { REDACTED, Redactor } from '../redaction/policy';
import { requestData } from './request';

const r = new Redactor();
const ENC = encodeURIComponent(REDACTED);

function req(fields: Record<string, unknown>): IncomingMessage {
  return { headers: {}, ...fields } as unknown as IncomingMessage;
}

function expressReq(body: unknown): IncomingMessage {
  const request = req({
    method: 'POST',
    url: '/items?api_key=k1&page=2', // rewritten by the router mounted on /api
    originalUrl: '/api/items?api_key=k1&page=2',
    baseUrl: '/api',
    route: { path: '/items' },
    headers: { cookie: 'sid=c2', 'x-api-key': 'k3', 'user-agent': 'curl/8', 'content-type': 'application/json' },
    body,
  });
  // As the request entered the router's layer: the template of its mount.
  enterMount(request, '/api');
  return request;
}

describe('requestData', () => {
  it('reads an Express request: originalUrl, route, redacted query, headers and body', () => {
    const data = requestData(expressReq({ user: 'bob', password: 'pw4', profile: { token: 't5', city: 'Oslo' } }), r);
    assert.deepEqual(data, {
      method: 'POST',
      url: `/api/items?api_key=${ENC}&page=2`,
      route: '/api/items',
      query_string: `api_key=${ENC}&page=2`,
      headers: { cookie: REDACTED, 'x-api-key': REDACTED, 'user-agent': 'curl/8', 'content-type': 'application/json' },
      data: { user: 'bob', password: REDACTED, profile: { token: REDACTED, city: 'Oslo' } },
    });
    const json = JSON.stringify(data);
    for (const secret of ['k1', 'c2', 'k3', 'pw4', 't5']) assert.ok(!json.includes(secret), `${secret} leaked: ${json}`);
  });

  it('leaves out an empty body object', () => {
    const data = requestData(expressReq({}), r);
    assert.equal('data' in data, false);
  });

  it('replaces a Buffer body by a marker', () => {
    const data = requestData(expressReq(Buffer.from('password=pw6')), r);
    assert.equal(data.data, '[binary]');
    assert.ok(!JSON.stringify(data).includes('pw6'));
  });

  it('redacts a text body', () => {
    const data = requestData(expressReq('user=bob&password=pw7'), r);
    assert.equal(data.data, `user=bob&password=${REDACTED}`);
  });

  it('keeps a falsy but present body', () => {
    assert.equal(requestData(expressReq(0), r).data, 0);
    assert.equal(requestData(expressReq(false), r).data, false);
  });

  it('reads a plain node request', () => {
    const data = requestData(req({ method: 'GET', url: '/health', headers: { host: 'svc:8080', accept: '*/*' } }), r);
    assert.deepEqual(data, { method: 'GET', url: '/health', headers: { host: 'svc:8080', accept: '*/*' } });
    assert.equal('route' in data, false);
    assert.equal('query_string' in data, false);
    assert.equal('data' in data, false);
  });

  it('reads the query of a plain node request', () => {
    const data = requestData(req({ method: 'GET', url: '/cb?code=abc&state=xyz&access_token=at8', headers: { authorization: 'Basic dXNlcjpwYXNz' } }), r);
    assert.equal(data.url, `/cb?code=${ENC}&state=xyz&access_token=${ENC}`);
    assert.equal(data.query_string, `code=${ENC}&state=xyz&access_token=${ENC}`);
    assert.deepEqual(data.headers, { authorization: REDACTED });
  });

  it('defaults the url to / when the request has none', () => {
    const data = requestData(req({ method: 'GET' }), r);
    assert.equal(data.url, '/');
  });

  it('uses the route alone when the router is not mounted', () => {
    const data = requestData(req({ method: 'GET', url: '/users/7', originalUrl: '/users/7', route: { path: '/users/:id' }, baseUrl: '' }), r);
    assert.equal(data.route, '/users/:id');
    assert.equal(data.url, '/users/7');
  });

  it('does not mutate the request', () => {
    const body = { password: 'pw9' };
    const headers = { cookie: 'sid=c10' };
    requestData(req({ method: 'POST', url: '/x?token=t11', headers, body }), r);
    assert.deepEqual(body, { password: 'pw9' });
    assert.deepEqual(headers, { cookie: 'sid=c10' });
  });
});
