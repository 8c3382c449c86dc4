import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Breadcrumb, ErrorEvent } from '@sentry/node';
import { REDACTED, Redactor } from '../redaction/policy';
import { scrubBreadcrumb, scrubEvent } from './scrub';

const ENC = encodeURIComponent(REDACTED);
const r = new Redactor();

function makeEvent(): ErrorEvent {
  return {
    type: undefined,
    event_id: 'e1',
    message: 'checkout failed for token=tok111',
    logentry: { message: 'login password=pw222' },
    level: 'error',
    exception: {
      values: [
        { type: 'Error', value: 'connect postgres://app:dbpw333@db/shop failed' },
        { type: 'TypeError', value: 'plain failure' },
      ],
    },
    request: {
      url: 'https://shop.example/cb?access_token=at444&page=2',
      method: 'POST',
      query_string: 'access_token=at444&page=2',
      headers: { authorization: 'Bearer abc.def.ghi', cookie: 'sid=ck555', 'content-type': 'application/json', 'user-agent': 'curl/8' },
      cookies: { sid: 'ck555' },
      data: { user: 'bob', password: 'pw666', items: [{ sku: 'A1' }] },
    },
    extra: { apiKey: 'ak777', note: 'Bearer xyz.uvw.rst', orderId: 42 },
    tags: { client_secret: 'cs888', region: 'eu' },
    contexts: {
      checkout: { session: 'ss999', step: 'pay', detail: 'retry with api_key=ak000' },
      trace: { trace_id: '0af7651916cd43dd8448eb211c80319c', span_id: 'b7ad6b7169203331', data: { token_note: 'kept as is' } },
      runtime: { name: 'node', version: 'v20.19.0' },
    },
    breadcrumbs: [
      { message: 'GET /login?password=bc111', category: 'http', data: { url: '/x', authorization: 'Bearer q.w.e.r' } },
      { message: 'clicked', category: 'ui' },
    ],
    user: { id: 'u1', email: 'bob@example.com', ip_address: '10.0.0.1', username: 'bob' },
  };
}

describe('scrubEvent', () => {
  it('redacts every user-data field of an error event', () => {
    const event = scrubEvent(makeEvent(), r);

    assert.equal(event.message, `checkout failed for token=${REDACTED}`);
    assert.equal(event.logentry?.message, `login password=${REDACTED}`);
    assert.equal(event.exception?.values?.[0]?.value, 'connect postgres://REDACTED:REDACTED@db/shop failed');
    assert.equal(event.exception?.values?.[1]?.value, 'plain failure');

    const req = event.request!;
    assert.equal(req.url, `https://shop.example/cb?access_token=${ENC}&page=2`);
    assert.equal(req.method, 'POST');
    assert.equal(req.query_string, `access_token=${ENC}&page=2`);
    assert.deepEqual(req.headers, { authorization: REDACTED, cookie: REDACTED, 'content-type': 'application/json', 'user-agent': 'curl/8' });
    assert.ok(!JSON.stringify(req.cookies).includes('ck555'), JSON.stringify(req.cookies));
    assert.deepEqual(req.data, { user: 'bob', password: REDACTED, items: [{ sku: 'A1' }] });

    assert.deepEqual(event.extra, { apiKey: REDACTED, note: `Bearer ${REDACTED}`, orderId: 42 });
    assert.deepEqual(event.tags, { client_secret: REDACTED, region: 'eu' });
    assert.deepEqual(event.contexts?.['checkout'], { session: REDACTED, step: 'pay', detail: `retry with api_key=${REDACTED}` });
    assert.deepEqual(event.contexts?.['trace'], makeEvent().contexts?.['trace']);
    assert.deepEqual(event.contexts?.['runtime'], { name: 'node', version: 'v20.19.0' });

    assert.equal(event.breadcrumbs?.[0]?.message, `GET /login?password=${REDACTED}`);
    assert.deepEqual(event.breadcrumbs?.[0]?.data, { url: '/x', authorization: REDACTED });
    assert.deepEqual(event.breadcrumbs?.[1], { message: 'clicked', category: 'ui' });

    assert.deepEqual(event.user, { id: 'u1' });

    const json = JSON.stringify(event);
    for (const secret of ['tok111', 'pw222', 'dbpw333', 'at444', 'ck555', 'abc.def.ghi', 'pw666', 'ak777', 'xyz.uvw.rst', 'cs888', 'ss999', 'ak000', 'bc111', 'q.w.e.r', 'bob@example.com', '10.0.0.1']) {
      assert.ok(!json.includes(secret), `${secret} leaked: ${json}`);
    }
  });

  it('redacts the object form of query_string', () => {
    const event = makeEvent();
    event.request!.query_string = { token: 'qs1', page: '2' };
    assert.deepEqual(scrubEvent(event, r).request?.query_string, { token: REDACTED, page: '2' });
  });

  it('redacts a path-only request url', () => {
    const event = makeEvent();
    event.request!.url = '/login?password=p1&next=%2F';
    assert.equal(scrubEvent(event, r).request?.url, `/login?password=${ENC}&next=%2F`);
  });

  it('returns the same event object (beforeSend contract)', () => {
    const event = makeEvent();
    assert.equal(scrubEvent(event, r), event);
  });

  it('copes with a minimal event', () => {
    const event: ErrorEvent = { type: undefined, event_id: 'e2' };
    assert.deepEqual(scrubEvent(event, r), { type: undefined, event_id: 'e2' });
  });

  it('keeps request data that is not secret and leaves a falsy body alone', () => {
    const event: ErrorEvent = { type: undefined, request: { url: 'https://shop.example/items?page=2', headers: { accept: '*/*' }, data: '' } };
    const req = scrubEvent(event, r).request!;
    assert.equal(req.url, 'https://shop.example/items?page=2');
    assert.deepEqual(req.headers, { accept: '*/*' });
    assert.equal(req.data, '');
  });

  it('uses the extra keys of the redactor', () => {
    const event: ErrorEvent = { type: undefined, extra: { user_ssn: '123-45-6789', name: 'Bob' } };
    assert.deepEqual(scrubEvent(event, new Redactor(['ssn'])).extra, { user_ssn: REDACTED, name: 'Bob' });
  });
});

describe('scrubBreadcrumb', () => {
  it('redacts message and data and keeps the rest', () => {
    const crumb: Breadcrumb = {
      type: 'http',
      category: 'fetch',
      level: 'info',
      timestamp: 1700000000,
      message: 'POST https://u:pw1@api.example/x?token=t2',
      data: { url: 'https://api.example/x', method: 'POST', headers: { cookie: 'c3', accept: 'json' }, body: 'password=p4' },
    };
    const out = scrubBreadcrumb(crumb, r);
    assert.equal(out.type, 'http');
    assert.equal(out.category, 'fetch');
    assert.equal(out.level, 'info');
    assert.equal(out.timestamp, 1700000000);
    assert.ok(!out.message!.includes('pw1') && !out.message!.includes('t2'), out.message);
    assert.deepEqual(out.data, {
      url: 'https://api.example/x',
      method: 'POST',
      headers: { cookie: REDACTED, accept: 'json' },
      body: `password=${REDACTED}`,
    });
  });

  it('does not mutate its input and adds no keys', () => {
    const crumb: Breadcrumb = { category: 'console', message: 'token=abc', data: { password: 'x' } };
    const out = scrubBreadcrumb(crumb, r);
    assert.deepEqual(crumb, { category: 'console', message: 'token=abc', data: { password: 'x' } });
    assert.deepEqual(out, { category: 'console', message: `token=${REDACTED}`, data: { password: REDACTED } });
    assert.deepEqual(scrubBreadcrumb({ category: 'ui' }, r), { category: 'ui' });
  });
});

describe('scrubEvent: other request shapes', () => {
  it('redacts query strings given as [key, value] pairs and userinfo in absolute URLs', () => {
    const event = {
      request: { url: 'https://u:pw@shop.example/login?token=abc', query_string: [['token', 'abc'], ['page', '2']] },
    } as unknown as Parameters<typeof scrubEvent>[0];
    const out = scrubEvent(event, new Redactor());
    assert.doesNotMatch(JSON.stringify(out), /abc|pw@/);
    assert.deepEqual((out.request as { query_string: unknown }).query_string, [['token', '[REDACTED]'], ['page', '2']]);
  });
});
