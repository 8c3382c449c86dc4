import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretKey, redactHeaderValues, redactUrl, REDACTED } from './policy';

describe('isSecretKey', () => {
  const SECRET = [
    'authorization',
    'Authorization',
    'proxy-authorization',
    'cookie',
    'Set-Cookie',
    'x-api-key',
    'X-API-KEY',
    'x-auth-token',
    'password',
    'db_passwd',
    'api_key',
    'apiKey',
    'client_secret',
    'access_token',
    'sessionId',
    'private-key',
    'aws_credentials',
    'x-amz-signature',
  ];
  const PLAIN = ['path', 'user-agent', 'content-type', 'id', 'accept', 'host', 'x-request-id', 'key', 'name'];

  for (const key of SECRET) it(`treats ${key} as secret`, () => assert.equal(isSecretKey(key), true));
  for (const key of PLAIN) it(`does not treat ${key} as secret`, () => assert.equal(isSecretKey(key), false));
});

describe('redactUrl', () => {
  it('redacts username and password of a database URL', () => {
    assert.equal(redactUrl('postgres://user:secret@host/db'), 'postgres://REDACTED:REDACTED@host/db');
  });

  it('redacts the public key of a Sentry DSN', () => {
    assert.equal(redactUrl('https://publicKey@o1.ingest.sentry.io/1'), 'https://REDACTED@o1.ingest.sentry.io/1');
  });

  it('redacts secret query values and keeps the others', () => {
    const out = redactUrl('https://api.example/cb?token=abc123&page=2&API_KEY=xyz789');
    assert.ok(!out.includes('abc123'), out);
    assert.ok(!out.includes('xyz789'), out);
    const params = new URL(out).searchParams;
    assert.equal(params.get('token'), REDACTED);
    assert.equal(params.get('API_KEY'), REDACTED);
    assert.equal(params.get('page'), '2');
  });

  it('redacts every value of a repeated secret key', () => {
    const out = redactUrl('https://api.example/?token=one&token=two');
    assert.ok(!out.includes('one') && !out.includes('two'), out);
  });

  it('leaves a URL without secrets as it is', () => {
    assert.equal(redactUrl('http://collector:4318/v1/traces'), 'http://collector:4318/v1/traces');
  });

  for (const value of ['not a url', 'http://', '//user:pw@host', 'http://user:pw@host:99999/']) {
    it(`redacts the unparseable ${JSON.stringify(value)} whole`, () => {
      assert.equal(redactUrl(value), REDACTED);
    });
  }

  it('does not leak the password of a URL missing its scheme', () => {
    // WHATWG parses this as scheme "admin:" with an opaque path, so there is no userinfo to clear.
    const out = redactUrl('admin:hunter2@db.example:5432/app');
    assert.ok(!out.includes('hunter2'), out);
  });
});

describe('redactHeaderValues', () => {
  it('keeps every name and replaces every value', () => {
    assert.deepEqual(redactHeaderValues({ authorization: 'Bearer x', 'x-tenant': 'shop' }), {
      authorization: REDACTED,
      'x-tenant': REDACTED,
    });
  });
});
