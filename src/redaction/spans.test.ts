import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanStatusCode } from '@opentelemetry/api';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { REDACTED, Redactor } from './policy';
import { RedactingSpanProcessor, redactAttributes } from './spans';

function setup() {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [new RedactingSpanProcessor(new Redactor()), new SimpleSpanProcessor({ exporter })],
  });
  return { exporter, provider, tracer: provider.getTracer('redaction-test') };
}

function only(exporter: InMemorySpanExporter): ReadableSpan {
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 1);
  return spans[0]!;
}

const ENC = encodeURIComponent(REDACTED);

describe('RedactingSpanProcessor', () => {
  it('redacts every carrier of user data before the exporter sees the span', async () => {
    const { exporter, provider, tracer } = setup();
    const span = tracer.startSpan('POST /login');
    span.setAttributes({
      'url.full': 'https://alice:pw123@api.example/login?token=abc123&page=2',
      'http.target': '/login?password=hunter2&next=%2Fhome',
      'url.query': 'api_key=k123&q=shoes',
      'db.query.text': "SELECT * FROM users WHERE email = 'alice@example.com'",
      'db.statement': "UPDATE users SET bio = 'it''s me' WHERE id = 7",
      'http.request.header.authorization': 'Bearer abc.def.ghi',
      'http.request.header.cookie': ['sid=s1', 'theme=dark'],
      'enduser.password': 'hunter2',
      'http.request.method': 'POST',
      'http.response.status_code': 500,
      'http.request.header.user-agent': ['curl/8'],
      'gen_ai.usage.input_tokens': 42,
      'server.address': 'api.example',
    });
    span.recordException(new Error('login failed: password=x'));
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream rejected token=tok999' });
    span.end();

    const out = only(exporter);
    const a = out.attributes;
    assert.equal(a['url.full'], `https://REDACTED:REDACTED@api.example/login?token=${ENC}&page=2`);
    assert.equal(a['http.target'], `/login?password=${ENC}&next=%2Fhome`);
    assert.equal(a['url.query'], `api_key=${ENC}&q=shoes`);
    assert.equal(a['db.query.text'], "SELECT * FROM users WHERE email = '?'");
    assert.equal(a['db.statement'], "UPDATE users SET bio = '?' WHERE id = ?");
    assert.equal(a['http.request.header.authorization'], REDACTED);
    assert.equal(a['http.request.header.cookie'], REDACTED);
    assert.equal(a['enduser.password'], REDACTED);
    // harmless attributes are untouched
    assert.equal(a['http.request.method'], 'POST');
    assert.equal(a['http.response.status_code'], 500);
    assert.deepEqual(a['http.request.header.user-agent'], ['curl/8']);
    assert.equal(a['gen_ai.usage.input_tokens'], 42);
    assert.equal(a['server.address'], 'api.example');

    const exception = out.events.find((e) => e.name === 'exception');
    assert.ok(exception?.attributes);
    assert.equal(exception.attributes['exception.message'], `login failed: password=${REDACTED}`);
    assert.equal(exception.attributes['exception.type'], 'Error');
    const stack = exception.attributes['exception.stacktrace'];
    assert.equal(typeof stack, 'string');
    assert.ok(!(stack as string).includes('password=x'), stack as string);

    assert.equal(out.status.code, SpanStatusCode.ERROR);
    assert.equal(out.status.message, `upstream rejected token=${REDACTED}`);

    const json = JSON.stringify({ attributes: out.attributes, events: out.events, status: out.status });
    for (const secret of ['alice', 'pw123', 'abc123', 'hunter2', 'k123', 'alice@example.com', "it''s", 'abc.def.ghi', 'sid=s1', 'tok999']) {
      assert.ok(!json.includes(secret), `${secret} leaked: ${json}`);
    }
    await provider.shutdown();
  });

  it('redacts secret-keyed attributes of ordinary span events', async () => {
    const { exporter, provider, tracer } = setup();
    const span = tracer.startSpan('op');
    span.addEvent('login', { 'user.password': 'pw', 'user.id': 'u1', 'exception.message': 'bad api_key=k9' });
    span.end();
    const event = only(exporter).events[0]!;
    assert.deepEqual(event.attributes, { 'user.password': REDACTED, 'user.id': 'u1', 'exception.message': `bad api_key=${REDACTED}` });
    await provider.shutdown();
  });

  it('leaves a span without secrets unchanged', async () => {
    const { exporter, provider, tracer } = setup();
    const attributes = {
      'url.full': 'https://api.example/items?page=2&q=shoes',
      'http.target': '/items?page=2',
      'url.query': 'page=2',
      'db.query.text': 'SELECT id FROM items WHERE id = $1',
      'http.request.method': 'GET',
      'http.response.status_code': 200,
      'gen_ai.usage.output_tokens': 7,
      'http.request.header.content-type': ['application/json'],
    };
    const span = tracer.startSpan('GET /items', { attributes });
    span.addEvent('cache.miss', { key: 'items:2' });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout after 30s' });
    span.end();
    const out = only(exporter);
    assert.deepEqual(out.attributes, attributes);
    assert.deepEqual(out.events[0]!.attributes, { key: 'items:2' });
    assert.equal(out.status.message, 'timeout after 30s');
    await provider.shutdown();
  });
});

describe('redactAttributes', () => {
  it('calls set only for the values it changes', () => {
    const calls: Array<[string, unknown]> = [];
    redactAttributes(
      { 'url.full': 'https://api.example/?page=1', 'http.request.header.x-api-key': 'k', count: 3, token: 5, nothing: undefined },
      new Redactor(),
      (k, v) => calls.push([k, v]),
    );
    assert.deepEqual(calls, [
      ['http.request.header.x-api-key', REDACTED],
      ['token', REDACTED],
    ]);
  });

  it('reads the query of url.query with or without its leading ?', () => {
    const calls: Array<[string, unknown]> = [];
    redactAttributes({ 'url.query': '?secret=s&x=1' }, new Redactor(), (k, v) => calls.push([k, v]));
    assert.deepEqual(calls, [['url.query', `secret=${ENC}&x=1`]]);
  });
});
