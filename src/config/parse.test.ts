import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EnvReader } from './parse';
import type { Env } from './variables';

const reader = (env: Env) => new EnvReader(env);

/** The only warning of a reader; fails when there is not exactly one. */
function onlyWarning(r: EnvReader): string {
  assert.equal(r.warnings.length, 1, `expected one warning, got ${JSON.stringify(r.warnings)}`);
  return r.warnings[0]!.message;
}

describe('EnvReader: blank values', () => {
  for (const blank of ['', ' ', '\t', ' \n ']) {
    it(`treats ${JSON.stringify(blank)} as unset, for every kind, without a warning`, () => {
      const r = reader({
        OTEL_SERVICE_NAME: blank,
        OTEL_SDK_DISABLED: blank,
        OTEL_BSP_MAX_QUEUE_SIZE: blank,
        OTEL_TRACES_SAMPLER_ARG: blank,
        OTEL_LOG_LEVEL: blank,
        OTEL_PROPAGATORS: blank,
        OTEL_EXPORTER_OTLP_ENDPOINT: blank,
        OTEL_RESOURCE_ATTRIBUTES: blank,
      });
      assert.equal(r.raw('OTEL_SERVICE_NAME'), undefined);
      assert.equal(r.string('OTEL_SERVICE_NAME'), undefined);
      assert.equal(r.boolean('OTEL_SDK_DISABLED', true), true);
      assert.equal(r.integer('OTEL_BSP_MAX_QUEUE_SIZE', 7), 7);
      assert.equal(r.optionalInteger('OTEL_BSP_MAX_QUEUE_SIZE'), undefined);
      assert.equal(r.number('OTEL_TRACES_SAMPLER_ARG', 0.5), 0.5);
      assert.equal(r.oneOf('OTEL_LOG_LEVEL', ['info', 'debug'], 'info'), 'info');
      assert.deepEqual(r.list('OTEL_PROPAGATORS', ['b3'], ['b3']), ['b3']);
      assert.equal(r.url('OTEL_EXPORTER_OTLP_ENDPOINT'), undefined);
      assert.deepEqual(r.keyValues('OTEL_RESOURCE_ATTRIBUTES'), {});
      assert.deepEqual(r.warnings, []);
    });
  }

  it('trims the value it returns', () => {
    assert.equal(reader({ OTEL_SERVICE_NAME: '  shop  ' }).string('OTEL_SERVICE_NAME'), 'shop');
  });
});

describe('EnvReader.boolean', () => {
  for (const [value, expected] of [
    ['true', true],
    ['TRUE', true],
    [' True ', true],
    ['false', false],
    ['FALSE', false],
    ['fAlSe', false],
  ] as const) {
    it(`reads ${JSON.stringify(value)} as ${expected}`, () => {
      const r = reader({ OTEL_SDK_DISABLED: value });
      assert.equal(r.boolean('OTEL_SDK_DISABLED', !expected), expected);
      assert.deepEqual(r.warnings, []);
    });
  }

  for (const value of ['yes', '1', '0', 'on', 'truee', 't']) {
    it(`warns on ${JSON.stringify(value)} and uses the fallback`, () => {
      const r = reader({ OTEL_SDK_DISABLED: value });
      assert.equal(r.boolean('OTEL_SDK_DISABLED', false), false);
      const message = onlyWarning(r);
      assert.equal(r.warnings[0]!.variable, 'OTEL_SDK_DISABLED');
      assert.match(message, /OTEL_SDK_DISABLED/);
      assert.ok(message.includes(JSON.stringify(value)), message);
      assert.match(message, /using false$/);
    });
  }
});

describe('EnvReader.integer', () => {
  for (const [value, expected] of [
    ['42', 42],
    [' 42 ', 42],
    ['+7', 7],
    ['-3', -3],
    ['0', 0],
    ['007', 7],
    [String(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER],
  ] as const) {
    it(`reads ${JSON.stringify(value)} as ${expected}`, () => {
      const r = reader({ OTEL_BSP_MAX_QUEUE_SIZE: value });
      assert.equal(r.integer('OTEL_BSP_MAX_QUEUE_SIZE', 1), expected);
      assert.deepEqual(r.warnings, []);
    });
  }

  for (const value of ['1.5', '12abc', '0x10', '1e3', 'abc', '1 2', '1_000', 'Infinity', '-', '9007199254740992', '9007199254740993', '99999999999999999999']) {
    it(`rejects ${JSON.stringify(value)} with one warning`, () => {
      const r = reader({ OTEL_BSP_MAX_QUEUE_SIZE: value });
      assert.equal(r.integer('OTEL_BSP_MAX_QUEUE_SIZE', 2048), 2048);
      const message = onlyWarning(r);
      assert.ok(message.includes(`OTEL_BSP_MAX_QUEUE_SIZE=${JSON.stringify(value)}`), message);
      assert.match(message, /expected an integer/);
      assert.match(message, /using 2048$/);
    });
  }

  it('takes whitespace alone as unset, not as a value (no warning)', () => {
    const r = reader({ OTEL_BSP_MAX_QUEUE_SIZE: ' ' });
    assert.equal(r.integer('OTEL_BSP_MAX_QUEUE_SIZE', 2048), 2048);
    assert.deepEqual(r.warnings, []);
  });

  it('rejects values outside the range and says which range', () => {
    const range = { min: 0, max: 65535 };
    for (const value of ['70000', '65536', '-1']) {
      const r = reader({ INNATURAL_HEALTH_PORT: value });
      assert.equal(r.integer('INNATURAL_HEALTH_PORT', 9464, range), 9464);
      assert.match(onlyWarning(r), /expected an integer in \[0, 65535\]\); using 9464$/);
    }
    for (const value of ['0', '65535']) {
      const r = reader({ INNATURAL_HEALTH_PORT: value });
      assert.equal(r.integer('INNATURAL_HEALTH_PORT', 9464, range), Number(value));
      assert.deepEqual(r.warnings, []);
    }
  });

  it('describes a one-sided range', () => {
    const low = reader({ OTEL_SPAN_LINK_COUNT_LIMIT: '-1' });
    low.integer('OTEL_SPAN_LINK_COUNT_LIMIT', 128, { min: 0 });
    assert.match(onlyWarning(low), /expected an integer >= 0\)/);
    const high = reader({ OTEL_SPAN_LINK_COUNT_LIMIT: '11' });
    high.integer('OTEL_SPAN_LINK_COUNT_LIMIT', 128, { max: 10 });
    assert.match(onlyWarning(high), /expected an integer <= 10\)/);
  });

  it('optionalInteger falls back to undefined and says "the default"', () => {
    const r = reader({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '0' });
    assert.equal(r.optionalInteger('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT', { min: 1 }), undefined);
    assert.match(onlyWarning(r), /using the default$/);
    assert.equal(reader({ OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '12' }).optionalInteger('OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT'), 12);
  });
});

describe('EnvReader.number', () => {
  for (const [value, expected] of [
    ['0.25', 0.25],
    ['1', 1],
    ['.5', 0.5],
    ['1.', 1],
    ['-0.5', -0.5],
    ['1e-1', 0.1],
    ['2.5E2', 250],
  ] as const) {
    it(`reads ${JSON.stringify(value)} as ${expected}`, () => {
      const r = reader({ OTEL_TRACES_SAMPLER_ARG: value });
      assert.equal(r.number('OTEL_TRACES_SAMPLER_ARG', 9), expected);
      assert.deepEqual(r.warnings, []);
    });
  }

  for (const value of ['half', '0x1', '1,5', 'NaN', 'Infinity', '1e999', '.', '1.2.3', '+']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      const r = reader({ OTEL_TRACES_SAMPLER_ARG: value });
      assert.equal(r.number('OTEL_TRACES_SAMPLER_ARG', 1), 1);
      const message = onlyWarning(r);
      assert.ok(message.includes(JSON.stringify(value)), message);
      assert.match(message, /\(expected a number\); using 1$/);
    });
  }

  it('rejects values outside the range', () => {
    const r = reader({ OTEL_TRACES_SAMPLER_ARG: '1.5' });
    assert.equal(r.number('OTEL_TRACES_SAMPLER_ARG', 1, { min: 0, max: 1 }), 1);
    assert.match(onlyWarning(r), /expected a number in \[0, 1\]\); using 1$/);
  });
});

describe('EnvReader.oneOf', () => {
  const LEVELS = ['error', 'info', 'debug'] as const;

  it('is case-insensitive and returns the canonical lower-case member', () => {
    for (const value of ['debug', 'DEBUG', ' Debug ']) {
      const r = reader({ OTEL_LOG_LEVEL: value });
      assert.equal(r.oneOf('OTEL_LOG_LEVEL', LEVELS, 'info'), 'debug');
      assert.deepEqual(r.warnings, []);
    }
  });

  it('warns on an unknown value, listing what is allowed', () => {
    const r = reader({ OTEL_LOG_LEVEL: 'loud' });
    assert.equal(r.oneOf('OTEL_LOG_LEVEL', LEVELS, 'info'), 'info');
    assert.equal(onlyWarning(r), 'Invalid OTEL_LOG_LEVEL="loud" (expected one of error|info|debug); using info');
  });
});

describe('EnvReader.list', () => {
  const PROPS = ['tracecontext', 'baggage', 'b3', 'none'] as const;

  it('splits, trims, lower-cases and de-duplicates members', () => {
    const r = reader({ OTEL_PROPAGATORS: ' B3 , tracecontext,,b3 ' });
    assert.deepEqual(r.list('OTEL_PROPAGATORS', PROPS, ['baggage']), ['b3', 'tracecontext']);
    assert.deepEqual(r.warnings, []);
  });

  it('drops unknown members with one warning naming all of them', () => {
    const r = reader({ OTEL_PROPAGATORS: 'tracecontext,xray,b3,ottrace' });
    assert.deepEqual(r.list('OTEL_PROPAGATORS', PROPS, ['baggage']), ['tracecontext', 'b3']);
    const message = onlyWarning(r);
    assert.match(message, /unknown xray, ottrace;/);
    assert.match(message, /using tracecontext,b3$/);
  });

  it('falls back when nothing valid is left', () => {
    const r = reader({ OTEL_PROPAGATORS: 'xray,ottrace' });
    assert.deepEqual(r.list('OTEL_PROPAGATORS', PROPS, ['tracecontext', 'baggage']), ['tracecontext', 'baggage']);
    assert.match(onlyWarning(r), /unknown xray, ottrace;.*using tracecontext,baggage$/);
  });

  it('falls back when the list has only separators', () => {
    const r = reader({ OTEL_PROPAGATORS: ', ,' });
    assert.deepEqual(r.list('OTEL_PROPAGATORS', PROPS, ['baggage']), ['baggage']);
    assert.equal(r.warnings.length, 1);
  });

  it('keeps free-form members as written when no allowed list is given', () => {
    const r = reader({ INNATURAL_TRACES_IGNORE_PATHS: '/Health, /ready* ' });
    assert.deepEqual(r.list<string>('INNATURAL_TRACES_IGNORE_PATHS', undefined, []), ['/Health', '/ready*']);
    assert.deepEqual(r.warnings, []);
  });
});

describe('EnvReader.url', () => {
  for (const value of ['http://collector:4318', 'https://otlp.example.com/base/', 'HTTP://Collector:4318']) {
    it(`accepts ${value} as written`, () => {
      const r = reader({ OTEL_EXPORTER_OTLP_ENDPOINT: value });
      assert.equal(r.url('OTEL_EXPORTER_OTLP_ENDPOINT'), value);
      assert.deepEqual(r.warnings, []);
    });
  }

  for (const value of ['localhost:4318', 'ftp://x', 'http://', 'not a url', '//collector:4318', 'file:///tmp/x']) {
    it(`rejects ${JSON.stringify(value)}`, () => {
      const r = reader({ OTEL_EXPORTER_OTLP_ENDPOINT: value });
      assert.equal(r.url('OTEL_EXPORTER_OTLP_ENDPOINT'), undefined);
      assert.match(onlyWarning(r), /^Invalid OTEL_EXPORTER_OTLP_ENDPOINT=.*\(expected an http\(s\) URL\); using the default$/);
    });
  }

  it('shows a rejected URL with its userinfo redacted', () => {
    const r = reader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://alice:CANARY_PW@collector.example/x' });
    assert.equal(r.url('OTEL_EXPORTER_OTLP_ENDPOINT'), undefined);
    const message = onlyWarning(r);
    assert.ok(!message.includes('CANARY_PW'), message);
    assert.ok(!message.includes('alice'), message);
    assert.ok(message.includes('"ftp://REDACTED:REDACTED@collector.example/x"'), message);
  });

  it('shows a rejected scheme-less URL without its password', () => {
    // A forgotten scheme: `user:pass@host` parses as scheme "user:" with an opaque path.
    const r = reader({ OTEL_EXPORTER_OTLP_ENDPOINT: 'user:CANARY_PW@collector.example:4318' });
    assert.equal(r.url('OTEL_EXPORTER_OTLP_ENDPOINT'), undefined);
    const message = onlyWarning(r);
    assert.ok(!message.includes('CANARY_PW'), message);
  });
});

describe('EnvReader.keyValues', () => {
  it('parses k=v pairs and percent-decodes values', () => {
    const r = reader({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,b=x%20y, c = z ,d=e=f,empty=' });
    assert.deepEqual(r.keyValues('OTEL_RESOURCE_ATTRIBUTES'), { a: '1', b: 'x y', c: 'z', d: 'e=f', empty: '' });
    assert.deepEqual(r.warnings, []);
  });

  it('keeps the good entries and reports the malformed ones once', () => {
    const r = reader({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,novalue,=x,bad key=1,b=%zz,c=3' });
    assert.deepEqual(r.keyValues('OTEL_RESOURCE_ATTRIBUTES'), { a: '1', c: '3' });
    const message = onlyWarning(r);
    assert.match(message, /4 malformed entries \(expected key=value\)/);
    assert.match(message, /using the well-formed keys a, c$/);
  });

  it('says "nothing" when no entry is well-formed', () => {
    const r = reader({ OTEL_RESOURCE_ATTRIBUTES: 'novalue' });
    assert.deepEqual(r.keyValues('OTEL_RESOURCE_ATTRIBUTES'), {});
    assert.match(onlyWarning(r), /1 malformed entry \(expected key=value\)\); using nothing$/);
  });

  it('never drops a well-formed entry silently (__proto__ as a key)', () => {
    const r = reader({ OTEL_RESOURCE_ATTRIBUTES: '__proto__=x,a=1' });
    const out = r.keyValues('OTEL_RESOURCE_ATTRIBUTES');
    const kept = Object.prototype.hasOwnProperty.call(out, '__proto__');
    assert.ok(kept || r.warnings.length === 1, `dropped without a warning: ${JSON.stringify(out)}`);
  });
});

describe('EnvReader warnings', () => {
  it('never show the raw value of a secret variable', () => {
    const r = reader({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20CANARY_TOKEN,CANARY_BROKEN' });
    assert.deepEqual(r.keyValues('OTEL_EXPORTER_OTLP_HEADERS'), { authorization: 'Bearer CANARY_TOKEN' });
    const message = onlyWarning(r);
    assert.ok(!message.includes('CANARY'), message);
    assert.ok(message.startsWith('Invalid OTEL_EXPORTER_OTLP_HEADERS=[REDACTED] '), message);
  });

  it('redact per-signal secret variables too', () => {
    const r = reader({ OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'CANARY_SECRET' });
    r.keyValues('OTEL_EXPORTER_OTLP_LOGS_HEADERS');
    const message = onlyWarning(r);
    assert.ok(!message.includes('CANARY'), message);
    assert.match(message, /\[REDACTED\]/);
  });

  it('truncate long values', () => {
    const long = 'x'.repeat(500);
    const r = reader({ OTEL_LOG_LEVEL: long });
    r.oneOf('OTEL_LOG_LEVEL', ['info'], 'info');
    const message = onlyWarning(r);
    assert.ok(message.includes(`"${'x'.repeat(80)}…"`), message);
    assert.ok(!message.includes('x'.repeat(81)), message);
    assert.ok(message.length < 200, `message is ${message.length} characters`);
  });

  it('accumulate one per bad variable, in reading order', () => {
    const r = reader({ OTEL_LOG_LEVEL: 'loud', OTEL_SDK_DISABLED: 'yes', OTEL_SERVICE_NAME: 'fine' });
    r.boolean('OTEL_SDK_DISABLED', false);
    r.string('OTEL_SERVICE_NAME');
    r.oneOf('OTEL_LOG_LEVEL', ['info'], 'info');
    assert.deepEqual(
      r.warnings.map((w) => w.variable),
      ['OTEL_SDK_DISABLED', 'OTEL_LOG_LEVEL'],
    );
  });
});
