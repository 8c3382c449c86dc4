import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretKey, redactHeaderValues, redactUrl, REDACTED, Redactor } from './policy';

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
    'key',
  ];
  const PLAIN = ['path', 'user-agent', 'content-type', 'id', 'accept', 'host', 'x-request-id', 'name', 'author', ':authority', 'monkey'];

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

describe('Redactor keys: the issue list', () => {
  const r = new Redactor();
  const SECRET_KEYS = [
    'password',
    'passwd',
    'pwd',
    'secret',
    'token',
    'access_token',
    'refresh_token',
    'id_token',
    'api_key',
    'apikey',
    'client_secret',
    'private_key',
    'session',
  ];
  const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token'];
  const PLAIN_KEYS = [
    'user',
    'id',
    'path',
    'gen_ai.usage.input_tokens',
    'gen_ai.usage.output_tokens',
    'max_tokens',
    'completion_tokens',
    'input_tokens',
    'content-type',
    'user-agent',
  ];
  const variants = (k: string) => [k, k.toUpperCase(), k[0]!.toUpperCase() + k.slice(1)];

  for (const key of [...SECRET_KEYS, ...SECRET_HEADERS]) {
    it(`isSecretKey(${key}) in any case`, () => {
      for (const v of variants(key)) assert.equal(r.isSecretKey(v), true, v);
    });
  }
  for (const key of PLAIN_KEYS) {
    it(`isSecretKey(${key}) is false in any case`, () => {
      for (const v of variants(key)) assert.equal(r.isSecretKey(v), false, v);
    });
  }

  for (const key of SECRET_KEYS) {
    it(`redacts ${key} in a query string, keeping the other pairs`, () => {
      for (const v of variants(key)) {
        const out = r.query(`user=bob&${v}=s3cr3tvalue&page=2`);
        assert.ok(!out.includes('s3cr3tvalue'), out);
        const params = new URLSearchParams(out);
        assert.equal(params.get(v), REDACTED, out);
        assert.equal(params.get('user'), 'bob');
        assert.equal(params.get('page'), '2');
      }
    });

    it(`redacts ${key} in a JSON body, as a parsed value and as text`, () => {
      for (const v of variants(key)) {
        const body = { user: 'bob', [v]: 's3cr3tvalue', nested: { [v]: 's3cr3tvalue', id: 7 } };
        const redacted = r.value(body) as Record<string, unknown>;
        assert.deepEqual(redacted, { user: 'bob', [v]: REDACTED, nested: { [v]: REDACTED, id: 7 } });
        const text = r.text(JSON.stringify(body));
        assert.ok(!text.includes('s3cr3tvalue'), text);
        assert.deepEqual(JSON.parse(text), redacted);
      }
    });

    it(`redacts ${key} in a form body`, () => {
      for (const v of variants(key)) {
        const out = r.text(`user=bob&${v}=s3cr3tvalue&remember=1`);
        assert.equal(out, `user=bob&${v}=${REDACTED}&remember=1`);
      }
    });

    it(`redacts ${key} in a context object`, () => {
      for (const v of variants(key)) {
        const out = r.value({ checkout: { cart: [{ sku: 'A1' }], [v]: 's3cr3tvalue' } });
        assert.deepEqual(out, { checkout: { cart: [{ sku: 'A1' }], [v]: REDACTED } });
      }
    });
  }

  it('headers(): the secret headers go, in any case, the others stay', () => {
    const input: Record<string, unknown> = {};
    for (const h of SECRET_HEADERS) {
      input[h] = 'v-' + h;
      input[h.toUpperCase()] = 'v-' + h;
    }
    input['content-type'] = 'application/json';
    input['user-agent'] = 'curl/8';
    const out = r.headers(input);
    for (const h of SECRET_HEADERS) {
      assert.equal(out[h], REDACTED, h);
      assert.equal(out[h.toUpperCase()], REDACTED, h);
    }
    assert.equal(out['content-type'], 'application/json');
    assert.equal(out['user-agent'], 'curl/8');
  });

  it('headers(): an array value of a secret header is redacted whole', () => {
    assert.deepEqual(r.headers({ 'set-cookie': ['a=1', 'b=2'], accept: ['*/*'] }), { 'set-cookie': REDACTED, accept: ['*/*'] });
  });

  it('keeps non-secret keys in query strings and bodies', () => {
    const qs = 'user=bob&id=3&path=%2Fa&max_tokens=100&completion_tokens=5';
    assert.equal(r.query(qs), qs);
    const body = { user: 'bob', id: 3, path: '/a', 'gen_ai.usage.input_tokens': 12, max_tokens: 100, completion_tokens: 5 };
    assert.deepEqual(r.value(body), body);
    const text = 'user=bob id=3 path=/a gen_ai.usage.input_tokens=12 max_tokens: 100 completion_tokens=5';
    assert.equal(r.text(text), text);
  });
});

describe('Redactor extra keys', () => {
  it('redacts the extra key wherever it appears in a key name, and the built-ins still apply', () => {
    const r = new Redactor(['taxid']);
    assert.equal(r.isSecretKey('taxid'), true);
    assert.equal(r.isSecretKey('TAXID'), true);
    assert.equal(r.isSecretKey('user_taxid'), true);
    assert.equal(r.isSecretKey('password'), true);
    assert.equal(r.isSecretKey('authorization'), true);
    assert.equal(r.isSecretKey('user'), false);
    assert.deepEqual(r.value({ user_taxid: '12-3456789', password: 'x', name: 'Bob' }), { user_taxid: REDACTED, password: REDACTED, name: 'Bob' });
    assert.equal(r.text('taxid=12-3456789 name=bob'), `taxid=${REDACTED} name=bob`);
  });

  it('the default redactor does not know the extra key', () => {
    assert.equal(new Redactor().isSecretKey('user_taxid'), false);
  });

  it('escapes regex characters and ignores blank entries', () => {
    const r = new Redactor(['a.b', '  ', '']);
    assert.equal(r.isSecretKey('a.b'), true);
    assert.equal(r.isSecretKey('axb'), false);
    assert.equal(r.isSecretKey('user'), false);
  });
});

describe('Redactor.text', () => {
  const r = new Redactor();

  const CASES: ReadonlyArray<[string, string]> = [
    ['failed: password=x', `failed: password=${REDACTED}`],
    ['{"apiKey":"x"}', `{"apiKey":"${REDACTED}"}`],
    ["token: 'a b'", `token: '${REDACTED}'`],
    ['Bearer abc.def.ghi', `Bearer ${REDACTED}`],
    ['auth with Basic dXNlcjpwYXNz failed', `auth with Basic ${REDACTED} failed`],
    ['connect postgres://u:p@h/db failed', 'connect postgres://REDACTED:REDACTED@h/db failed'],
  ];
  for (const [input, expected] of CASES) {
    it(`${JSON.stringify(input)} → ${JSON.stringify(expected)}`, () => assert.equal(r.text(input), expected));
  }

  it('redacts the password of a URL without username inside prose (redis://:p@h)', () => {
    const out = r.text('cannot reach redis://:p@h right now');
    assert.ok(!out.includes(':p@'), out);
    const real = r.text('cannot reach redis://:hunter2@cache:6379/0 right now');
    assert.ok(!real.includes('hunter2'), real);
  });

  it('redacts a Luhn-valid card number with or without separators', () => {
    for (const card of ['4111111111111111', '4111 1111 1111 1111', '4111-1111-1111-1111']) {
      const out = r.text(`paid with ${card} today`);
      assert.equal(out, `paid with ${REDACTED} today`, card);
    }
  });

  it('keeps a Luhn-invalid 16-digit number and a 10-digit order id', () => {
    for (const text of ['ref 4111111111111112 ok', 'order 1234567890 shipped']) assert.equal(r.text(text), text);
  });

  it('keeps harmless text', () => {
    for (const text of ['meeting at 12:30', 'status: ok', 'user=bob id=42', '', 'GET /api/items 200']) assert.equal(r.text(text), text);
  });

  it('is idempotent', () => {
    const inputs = [
      'failed: password=x',
      '{"apiKey":"x","user":"bob"}',
      "token: 'a b'",
      'Authorization: Bearer abc.def.ghi',
      'Basic dXNlcjpwYXNz',
      'postgres://u:p@h/db',
      'https://pub@o1.ingest.sentry.io/1',
      'card 4111 1111 1111 1111',
      'a=1&secret=2&b=3',
      'meeting at 12:30, status: ok',
    ];
    for (const x of inputs) {
      const once = r.text(x);
      assert.equal(r.text(once), once, x);
    }
  });
});

describe('Redactor.url', () => {
  const r = new Redactor();

  it('removes userinfo and secret query values, keeps the rest', () => {
    const out = r.url('https://alice:pw123@api.example/cb?access_token=abc123&page=2&q=shoes');
    assert.ok(!out.includes('alice') && !out.includes('pw123') && !out.includes('abc123'), out);
    const u = new URL(out);
    assert.equal(u.host, 'api.example');
    assert.equal(u.pathname, '/cb');
    assert.equal(u.searchParams.get('access_token'), REDACTED);
    assert.equal(u.searchParams.get('page'), '2');
    assert.equal(u.searchParams.get('q'), 'shoes');
  });

  it('leaves a URL with only non-secret query keys unchanged', () => {
    const url = 'https://api.example/search?q=shoes&page=2&user=bob';
    assert.equal(r.url(url), url);
  });

  it('redacts a scheme-less user:pw@host whole', () => {
    assert.equal(r.url('user:pw@host'), REDACTED);
    assert.equal(r.url('admin:hunter2@db.example:5432/app'), REDACTED);
  });

  it('target() redacts the query of a path', () => {
    assert.equal(r.target('/login?password=x&next=%2F'), `/login?password=${encodeURIComponent(REDACTED)}&next=%2F`);
    assert.equal(r.target('/plain/path'), '/plain/path');
  });
});

describe('Redactor.sql', () => {
  const r = new Redactor();

  it('replaces every string literal, escaped quotes included', () => {
    assert.equal(
      r.sql("UPDATE users SET bio = 'it''s me', email = 'a@b.example' WHERE id = 7"),
      "UPDATE users SET bio = '?', email = '?' WHERE id = ?",
    );
    assert.equal(r.sql("SELECT 'it''s'"), "SELECT '?'");
    assert.equal(r.sql("SELECT ''"), "SELECT '?'");
  });

  it('keeps SQL without literals', () => {
    const q = 'SELECT id, name FROM users WHERE id = $1 AND t2.col = "x1"';
    assert.equal(r.sql(q), q);
  });
});

describe('Redactor.value', () => {
  const r = new Redactor();

  it('redacts deep objects and arrays', () => {
    const input = {
      user: { id: 1, name: 'Bob', credentials: { password: 'x' } },
      items: [{ sku: 'A', token: 't1' }, 'Bearer abcdefgh123', 42, null, true],
      note: 'login password=hunter2',
    };
    assert.deepEqual(r.value(input), {
      user: { id: 1, name: 'Bob', credentials: REDACTED },
      items: [{ sku: 'A', token: REDACTED }, `Bearer ${REDACTED}`, 42, null, true],
      note: `login password=${REDACTED}`,
    });
  });

  it('stops at the depth limit', () => {
    type Deep = { next?: Deep; password?: string; level: number };
    const root: Deep = { level: 0 };
    let cur = root;
    for (let i = 1; i < 20; i++) {
      cur.next = { level: i };
      cur = cur.next;
    }
    cur.password = 'deepsecret';
    const out = r.value(root);
    const json = JSON.stringify(out);
    assert.ok(json.includes('[Truncated]'), json);
    assert.ok(!json.includes('deepsecret'), json);
    assert.ok(json.split('"next"').length - 1 < 19, json);
  });

  it('does not loop on a cycle', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const json = JSON.stringify(r.value(a));
    assert.ok(json.includes('[Truncated]'), json);
  });

  it('turns an Error into redacted text', () => {
    const out = r.value({ err: new TypeError('login failed: password=hunter2') });
    assert.deepEqual(out, { err: `TypeError: login failed: password=${REDACTED}` });
  });

  it('does not mutate its input', () => {
    const input = { password: 'x', nested: { token: 't', list: ['Bearer abcdefgh123'] } };
    const copy = structuredClone(input);
    const out = r.value(input);
    assert.deepEqual(input, copy);
    assert.notEqual(out, input);
  });

  it('passes primitives through', () => {
    assert.equal(r.value(5), 5);
    assert.equal(r.value(null), null);
    assert.equal(r.value(undefined), undefined);
    assert.equal(r.value(false), false);
  });
});

describe('Redactor.text: quoted JSON values', () => {
  it('redacts the whole value, escaped quotes included', () => {
    const out = new Redactor().text('{"password":"a\\"b-rest","user":"x"}');
    assert.equal(out, '{"password":"[REDACTED]","user":"x"}');
  });
});
