import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SeverityNumber } from '@opentelemetry/api';
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { REDACTED, Redactor } from './policy';
import { RedactingLogProcessor } from './logs';

function setup() {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    processors: [new RedactingLogProcessor(new Redactor()), new SimpleLogRecordProcessor({ exporter })],
  });
  return { exporter, provider, logger: provider.getLogger('redaction-test') };
}

function only(exporter: InMemoryLogRecordExporter): ReadableLogRecord {
  const records = exporter.getFinishedLogRecords();
  assert.equal(records.length, 1);
  return records[0]!;
}

describe('RedactingLogProcessor', () => {
  it('redacts a string body', async () => {
    const { exporter, provider, logger } = setup();
    logger.emit({ severityNumber: SeverityNumber.INFO, body: 'refreshing session with token=tok123 for user=bob' });
    assert.equal(only(exporter).body, `refreshing session with token=${REDACTED} for user=bob`);
    await provider.shutdown();
  });

  it('redacts an object body by key and by text, deeply', async () => {
    const { exporter, provider, logger } = setup();
    logger.emit({
      body: { msg: 'login', user: 'bob', password: 'hunter2', req: { headers: { authorization: 'Bearer abc.def.ghi', accept: '*/*' } }, tags: ['Bearer zzz.yyy.xxx', 'ok'] },
    });
    assert.deepEqual(only(exporter).body, {
      msg: 'login',
      user: 'bob',
      password: REDACTED,
      req: { headers: { authorization: REDACTED, accept: '*/*' } },
      tags: [`Bearer ${REDACTED}`, 'ok'],
    });
    await provider.shutdown();
  });

  it('redacts attributes with secret keys, nested objects and bearer tokens in strings', async () => {
    const { exporter, provider, logger } = setup();
    logger.emit({
      body: 'request done',
      attributes: {
        authorization: 'Bearer abc.def.ghi',
        api_key: 'k123',
        'user.id': 'u1',
        count: 3,
        'gen_ai.usage.input_tokens': 12,
        note: 'retry with Bearer qqq.www.eee',
        ctx: { session: 's1', cart: { items: 2, client_secret: 'cs1' } },
        list: ['password=pw1', 'plain'],
      },
    });
    const a = only(exporter).attributes;
    assert.equal(a['authorization'], REDACTED);
    assert.equal(a['api_key'], REDACTED);
    assert.equal(a['user.id'], 'u1');
    assert.equal(a['count'], 3);
    assert.equal(a['gen_ai.usage.input_tokens'], 12);
    assert.equal(a['note'], `retry with Bearer ${REDACTED}`);
    assert.deepEqual(a['ctx'], { session: REDACTED, cart: { items: 2, client_secret: REDACTED } });
    assert.deepEqual(a['list'], [`password=${REDACTED}`, 'plain']);
    const json = JSON.stringify(a);
    for (const secret of ['abc.def.ghi', 'k123', 'qqq.www.eee', 's1"', 'cs1', 'pw1']) assert.ok(!json.includes(secret), `${secret}: ${json}`);
    await provider.shutdown();
  });

  it('redacts semantic-convention header attributes by their last segment, as spans do', async () => {
    // The span processor reads `http.request.header.cookie` as secret because of its last part;
    // the same attribute on a log record must not carry the cookie through.
    const { exporter, provider, logger } = setup();
    logger.emit({
      body: 'request',
      attributes: {
        'http.request.header.cookie': 'sid=abc123',
        'http.response.header.set-cookie': 'sid=abc123; HttpOnly',
        'http.request.header.authorization': 'rawkey987',
        'http.request.header.x-api-key': 'k123',
        'http.request.header.user-agent': 'curl/8',
      },
    });
    assert.deepEqual(only(exporter).attributes, {
      'http.request.header.cookie': REDACTED,
      'http.response.header.set-cookie': REDACTED,
      'http.request.header.authorization': REDACTED,
      'http.request.header.x-api-key': REDACTED,
      'http.request.header.user-agent': 'curl/8',
    });
    await provider.shutdown();
  });

  it('redacts the exception attributes of a log record', async () => {
    const { exporter, provider, logger } = setup();
    logger.emit({ body: 'failed', exception: new Error('db login failed: password=pw77') });
    const a = only(exporter).attributes;
    assert.equal(a['exception.message'], `db login failed: password=${REDACTED}`);
    assert.ok(!String(a['exception.stacktrace']).includes('pw77'));
    await provider.shutdown();
  });

  it('leaves a record without secrets unchanged', async () => {
    const { exporter, provider, logger } = setup();
    logger.emit({ severityText: 'INFO', body: 'GET /items 200 in 12:30ms', attributes: { route: '/items', status: 200, ok: true, nested: { a: 'b' } } });
    const rec = only(exporter);
    assert.equal(rec.body, 'GET /items 200 in 12:30ms');
    assert.deepEqual(rec.attributes, { route: '/items', status: 200, ok: true, nested: { a: 'b' } });
    assert.equal(rec.severityText, 'INFO');
    await provider.shutdown();
  });
});
