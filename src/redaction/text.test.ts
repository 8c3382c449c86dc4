import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_SCAN, Redactor } from './policy';

const S = 'Zq8xK2mP9vL4wR7t';

describe('Redactor.text: the second round of leaks', () => {
  const r = new Redactor();
  const CASES: ReadonlyArray<[string, string]> = [
    [`failed for token ${S}`, 'failed for token [REDACTED]'],
    [`password reset token ${S} expired`, 'password reset token [REDACTED] expired'],
    ['my password is hunter2x', 'my password is [REDACTED]'],
    ['my password is swordfish', 'my password is [REDACTED]'],
    [`Authorization: Token ${S}`, 'Authorization: [REDACTED]'],
    [`authorization=Bearer ${S}`, 'authorization=[REDACTED]'],
    [`postgres://app:pa/ss${S}@db:5432/x`, 'postgres://REDACTED:REDACTED@db:5432/x'],
    [`https://svc:${S}@host/x`, 'https://REDACTED:REDACTED@host/x'],
    [`https://hooks.slack.com/services/T0001/B0001/${S}`, 'https://hooks.slack.com/services/T0001/B0001/REDACTED'],
    [`https://discord.com/api/webhooks/123/${S}`, 'https://discord.com/api/webhooks/123/REDACTED'],
    [`https://api.telegram.org/bot123:${S}/sendMessage`, 'https://api.telegram.org/botREDACTED/sendMessage'],
    [`const ADMIN_PASSWORD = '${S}';`, "const ADMIN_PASSWORD = '[REDACTED]';"],
    [`{\\"client_secret\\":\\"${S}\\"}`, '{\\"client_secret\\":\\"[REDACTED]\\"}'],
    [`key=${S}&page=2`, 'key=[REDACTED]&page=2'],
    [`api key ${S} rejected`, 'api key [REDACTED] rejected'],
    [`using sk-proj-${S}${S}`, 'using [REDACTED]'],
    [`ghp_${S}${S} and AKIAIOSFODNN7EXAMPLE`, '[REDACTED] and [REDACTED]'],
    [`jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.${S}`, 'jwt [REDACTED]'],
    [`-----BEGIN PRIVATE KEY-----\nMIIE${S}\n-----END PRIVATE KEY----- done`, '[REDACTED] done'],
    ['http://a/?next=https://u:p@b/c', 'http://a/?next=https://REDACTED:REDACTED@b/c'],
  ];
  for (const [input, expected] of CASES) it(JSON.stringify(input), () => assert.equal(r.text(input), expected));

  const KEPT = [
    'password is incorrect',
    'token expired',
    'the session has expired, log in again',
    'GET /api/users/:id',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
    'trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7',
    'http://host:8080/a@b',
    'https://medium.com/@someone/post',
    'order 1234567890 shipped',
    'connect ECONNREFUSED 127.0.0.1:5432',
  ];
  for (const input of KEPT) it(`keeps ${JSON.stringify(input)}`, () => assert.equal(r.text(input), input));

  it('cuts a value past the scan limit and says so', () => {
    const out = r.text(`${'x'.repeat(MAX_SCAN)}password=${S}`);
    assert.ok(!out.includes(S));
    assert.match(out, /\[TRUNCATED \d+ chars\]$/);
  });

  it('prose passes off: pairs, URLs and cards still go, the word after "token" stays', () => {
    const raw = new Redactor([], { prose: false });
    assert.equal(raw.text(`failed for token ${S}`), `failed for token ${S}`);
    assert.equal(raw.text(`password=${S} postgres://u:${S}@h`), 'password=[REDACTED] postgres://REDACTED:REDACTED@h');
  });

  it('extra patterns replace their matches', () => {
    const r2 = new Redactor([], { patterns: [/acct-\d{6}/] });
    assert.equal(r2.text('moved acct-123456 today'), 'moved [REDACTED] today');
  });
});

describe('Redactor: query, body and URL keys', () => {
  const r = new Redactor();
  it('sig, code and key in a query string', () => {
    assert.equal(r.query(`sig=${S}&code=${S}&key=${S}&page=1`), 'sig=%5BREDACTED%5D&code=%5BREDACTED%5D&key=%5BREDACTED%5D&page=1');
  });
  it('passphrase, cvv, pin and code in a body; code stays in an error object', () => {
    assert.deepEqual(r.body({ passphrase: S, cvv: '123', pin: '1234', code: S, name: 'x' }), {
      passphrase: '[REDACTED]',
      cvv: '[REDACTED]',
      pin: '[REDACTED]',
      code: '[REDACTED]',
      name: 'x',
    });
    assert.equal(r.body(`grant_type=authorization_code&code=${S}`), 'grant_type=authorization_code&code=[REDACTED]');
    assert.deepEqual(r.value({ code: 'ECONNREFUSED' }), { code: 'ECONNREFUSED' });
  });
  it('a body field is cut at 4 KiB and says so', () => {
    const out = r.body({ note: 'x'.repeat(10_000) }) as { note: string };
    assert.ok(out.note.length < 4200, String(out.note.length));
    assert.match(out.note, /\[TRUNCATED 5904 chars\]$/);
  });
  it('secret-shaped header names', () => {
    assert.deepEqual(r.headers({ 'x-access-key': S, authentication: S, 'user-agent': 'curl/8' }), {
      'x-access-key': '[REDACTED]',
      authentication: '[REDACTED]',
      'user-agent': 'curl/8',
    });
  });
  it('a webhook URL keeps its workspace and loses its secret', () => {
    assert.equal(r.url(`https://hooks.slack.com/services/T0001/B0001/${S}?x=1`), 'https://hooks.slack.com/services/T0001/B0001/REDACTED?x=1');
  });
});
