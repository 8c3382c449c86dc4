import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KeyPolicy, keyWords } from './keys';

describe('KeyPolicy: secret-shaped names', () => {
  const keys = new KeyPolicy();
  const SECRET = [
    'x-access-key',
    'authentication',
    'X-Auth',
    'oauth_verifier',
    'passphrase',
    'cvv',
    'CVC',
    'pin',
    'userPin',
    'otp',
    'ssn',
    'sig',
    'sentry_key',
    'key',
    'apiKey',
    'APIKey',
    'x-goog-api-key',
    'client-secret',
    'x-amz-security-token',
    'jwt',
    'dsn',
    'connection_string',
    'x-hub-signature-256',
    'PHPSESSID',
    'x'.repeat(300),
  ];
  const PLAIN = ['author', ':authority', 'monkey', 'keyboard', 'max_tokens', 'gen_ai.usage.input_tokens', 'user', 'content-type', 'code', 'state', 'pinned_at'];
  for (const key of SECRET) it(`${key.slice(0, 40)} is secret`, () => assert.equal(keys.isSecret(key), true));
  for (const key of PLAIN) it(`${key} is not`, () => assert.equal(keys.isSecret(key), false));

  it('code and ticket are secret as query and form keys only', () => {
    for (const key of ['code', 'ticket', 'auth_code']) assert.equal(keys.isSecretQueryKey(key), true, key);
    assert.equal(keys.isSecret('code'), false);
    assert.equal(keys.isSecretQueryKey('state'), false);
  });

  it('a bare key is not secret as an attribute name, a qualified one is', () => {
    assert.equal(keys.isSecret('messaging.kafka.message.key', false), false);
    assert.equal(keys.isSecret('key', false), false);
    assert.equal(keys.isSecret('api.key', false), true);
    assert.equal(keys.isSecret('x-access-key', false), true);
  });

  it('extra keys match anywhere, ignoring case and separators', () => {
    const extra = new KeyPolicy(['tenant-id']);
    assert.equal(extra.isSecret('X_TENANT_ID'), true);
    assert.equal(extra.isSecret('tenantId'), true);
    assert.equal(new KeyPolicy().isSecret('tenantId'), false);
  });

  it('splits names into words at separators and case changes', () => {
    assert.deepEqual(keyWords('x-access-key'), ['x', 'access', 'key']);
    assert.deepEqual(keyWords('userPIN'), ['user', 'pin']);
    assert.deepEqual(keyWords('APIKey'), ['api', 'key']);
    assert.deepEqual(keyWords('monkey_bars'), ['monkey', 'bars']);
  });
});
