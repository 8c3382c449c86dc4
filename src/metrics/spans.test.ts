import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { Registry, type Family } from './registry';
import { registerCatalog, type CatalogMetrics } from './families';
import { AiLedger } from './ai-ledger';
import { feedsMetrics, MetricsSpanProcessor } from './spans';

interface FakeSpan {
  kind?: SpanKind;
  name?: string;
  attributes?: Attributes;
  status?: SpanStatusCode;
  durationMs?: number;
  startMs?: number;
}

const T0 = 1_700_000_000_000;

function span(o: FakeSpan): ReadableSpan {
  const startMs = o.startMs ?? T0;
  const durationMs = o.durationMs ?? 10;
  return {
    kind: o.kind ?? SpanKind.CLIENT,
    name: o.name ?? 'span',
    attributes: o.attributes ?? {},
    status: { code: o.status ?? SpanStatusCode.UNSET },
    startTime: millisToHrTime(startMs),
    endTime: millisToHrTime(startMs + durationMs),
    duration: millisToHrTime(durationMs),
    ended: true,
    events: [],
    links: [],
    spanContext: () => ({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }),
  } as unknown as ReadableSpan;
}

function setup(): { metrics: CatalogMetrics; ai: AiLedger; processor: MetricsSpanProcessor; registry: Registry } {
  const registry = new Registry(1000);
  const metrics = registerCatalog(registry, 'innatural_chatbot');
  const ai = new AiLedger();
  return { registry, metrics, ai, processor: new MetricsSpanProcessor(metrics, ai) };
}

function find(family: Family, labels: string[]) {
  return family.all().find((s) => s.labels.length === labels.length && s.labels.every((l, i) => l === labels[i]));
}

/** Total of all recorded values across the span-fed families. */
function recorded(metrics: CatalogMetrics): number {
  return metrics.dbQueryDuration.size + metrics.redisOperations.size + metrics.aiRequestDuration.size + metrics.aiTokens.size;
}

describe('MetricsSpanProcessor: database spans', () => {
  it('observes a pg query by the first SQL keyword of db.query.text and db.system.name', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        name: 'pg.query:SELECT shop',
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT * FROM users WHERE id = $1' },
        durationMs: 30,
      }),
    );
    const s = find(metrics.dbQueryDuration, ['SELECT', 'postgresql'])!;
    assert.ok(s, JSON.stringify(metrics.dbQueryDuration.all()));
    assert.equal(s.count, 1);
    assert.ok(Math.abs(s.sum - 0.03) < 1e-9, `sum ${s.sum}`);
    // DB buckets [0.001, 0.005, 0.01, 0.025, 0.05, ...]: 30 ms is in le=0.05
    assert.deepEqual(s.counts, [0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(metrics.dbQueryDuration.size, 1);
  });

  it('prefers db.operation.name, upper-cased, first word', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({ attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'insert', 'db.query.text': 'SELECT 1' } }),
    );
    processor.onEnd(span({ attributes: { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT users' } }));
    assert.equal(find(metrics.dbQueryDuration, ['INSERT', 'postgresql'])?.count, 1);
    assert.equal(find(metrics.dbQueryDuration, ['SELECT', 'postgresql'])?.count, 1);
  });

  for (const [text, op] of [
    ['select 1', 'SELECT'],
    ['  \n\tUPDATE t SET a = 1', 'UPDATE'],
    ['(SELECT 1) UNION (SELECT 2)', 'SELECT'],
    ['WITH x AS (SELECT 1) SELECT * FROM x', 'WITH'],
    ['delete from t', 'DELETE'],
    ['BEGIN', 'BEGIN'],
    ['COMMIT;', 'COMMIT'],
    ['FROBNICATE the table', 'OTHER'],
    ['1234', 'OTHER'],
    ['', 'OTHER'],
  ] as const) {
    it(`db.query.text ${JSON.stringify(text)} → operation ${op}`, () => {
      const { metrics, processor } = setup();
      processor.onEnd(span({ attributes: { 'db.system.name': 'postgresql', 'db.query.text': text } }));
      assert.deepEqual(
        metrics.dbQueryDuration.all().map((s) => s.labels),
        [[op, 'postgresql']],
      );
    });
  }

  it('ignores a db span with neither query text nor operation (connection and pool spans)', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ name: 'pg.query', attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'shop' } }));
    assert.equal(recorded(metrics), 0);
  });

  it("is 'OTHER' for an operation-less query whose text has no known keyword", () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ attributes: { 'db.system.name': 'postgresql', 'db.query.text': '-- comment only' } }));
    assert.equal(find(metrics.dbQueryDuration, ['OTHER', 'postgresql'])?.count, 1);
  });

  it('falls back to the old db.system and db.statement attributes', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ attributes: { 'db.system': 'mysql', 'db.statement': 'INSERT INTO t VALUES (1)' } }));
    assert.equal(find(metrics.dbQueryDuration, ['INSERT', 'mysql'])?.count, 1);
  });

  it('ignores pg connect spans', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ name: 'pg.connect', attributes: { 'db.system.name': 'postgresql' } }));
    processor.onEnd(span({ name: 'pg-pool.connect', attributes: { 'db.system.name': 'postgresql' } }));
    assert.equal(recorded(metrics), 0);
  });

  // instrumentation-pg names query spans `pg.query:<prepared statement name | first keyword> <database name>`
  // (getQuerySpanName), so the /connect/i test on the span name also drops real queries.
  it('counts a query on a database whose name contains "connect"', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        name: 'pg.query:SELECT connect_prod',
        attributes: { 'db.system.name': 'postgresql', 'db.namespace': 'connect_prod', 'db.query.text': 'SELECT 1' },
      }),
    );
    assert.equal(find(metrics.dbQueryDuration, ['SELECT', 'postgresql'])?.count, 1);
  });

  it('counts a prepared statement whose name contains "connect"', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        name: 'pg.query:disconnect-idle-sessions shop',
        attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'DELETE FROM sessions WHERE idle' },
      }),
    );
    assert.equal(find(metrics.dbQueryDuration, ['DELETE', 'postgresql'])?.count, 1);
  });

  it('records error spans too (same labels)', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({ attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 1' }, status: SpanStatusCode.ERROR }),
    );
    assert.equal(find(metrics.dbQueryDuration, ['SELECT', 'postgresql'])?.count, 1);
  });
});

describe('MetricsSpanProcessor: redis spans', () => {
  it('counts redis operations by lower-cased db.operation.name', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ name: 'get', attributes: { 'db.system.name': 'redis', 'db.operation.name': 'GET' } }));
    processor.onEnd(span({ name: 'get', attributes: { 'db.system.name': 'redis', 'db.operation.name': 'get' } }));
    processor.onEnd(span({ name: 'hset', attributes: { 'db.system': 'redis', 'db.operation.name': 'HSET' } }));
    assert.equal(find(metrics.redisOperations, ['get', 'success'])?.value, 2);
    assert.equal(find(metrics.redisOperations, ['hset', 'success'])?.value, 1);
    assert.equal(metrics.dbQueryDuration.size, 0, 'redis is not a SQL query');
  });

  it("status is 'error' when the span status is ERROR", () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({ attributes: { 'db.system.name': 'redis', 'db.operation.name': 'SET' }, status: SpanStatusCode.ERROR }),
    );
    processor.onEnd(span({ attributes: { 'db.system.name': 'redis', 'db.operation.name': 'SET' }, status: SpanStatusCode.OK }));
    assert.equal(find(metrics.redisOperations, ['set', 'error'])?.value, 1);
    assert.equal(find(metrics.redisOperations, ['set', 'success'])?.value, 1);
  });

  it('ignores redis spans without db.operation.name (connection set-up)', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ name: 'connect', attributes: { 'db.system.name': 'redis' } }));
    processor.onEnd(span({ name: 'x', attributes: { 'db.system.name': 'redis', 'db.operation.name': '' } }));
    processor.onEnd(span({ name: 'x', attributes: { 'db.system.name': 'redis', 'db.operation.name': 3 } }));
    assert.equal(recorded(metrics), 0);
  });
});

describe('MetricsSpanProcessor: gen_ai spans', () => {
  it('observes the duration by response model and counts input/output tokens', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        name: 'chat gpt-4o',
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': 'openai',
          'gen_ai.request.model': 'gpt-4o',
          'gen_ai.response.model': 'gpt-4o-2024-08-06',
          'gen_ai.usage.input_tokens': 12,
          'gen_ai.usage.output_tokens': 34,
        },
        durationMs: 1200,
      }),
    );
    const s = find(metrics.aiRequestDuration, ['gpt-4o-2024-08-06', 'success'])!;
    assert.ok(s);
    assert.equal(s.count, 1);
    assert.ok(Math.abs(s.sum - 1.2) < 1e-9);
    assert.deepEqual(s.counts, [0, 0, 0, 1, 0, 0, 0]);
    assert.equal(metrics.aiRequestDuration.size, 1);
    assert.equal(find(metrics.aiTokens, ['gpt-4o-2024-08-06', 'prompt'])?.value, 12);
    assert.equal(find(metrics.aiTokens, ['gpt-4o-2024-08-06', 'completion'])?.value, 34);
    assert.equal(metrics.aiTokens.size, 2);
  });

  it('falls back to the request model, then to unknown', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ attributes: { 'gen_ai.system': 'openai', 'gen_ai.request.model': 'gpt-4o-mini' } }));
    processor.onEnd(span({ attributes: { 'gen_ai.operation.name': 'chat' } }));
    assert.equal(find(metrics.aiRequestDuration, ['gpt-4o-mini', 'success'])?.count, 1);
    assert.equal(find(metrics.aiRequestDuration, ['unknown', 'success'])?.count, 1);
    assert.equal(metrics.aiTokens.size, 0);
  });

  it("status is 'error' when the span status is ERROR", () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({ attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' }, status: SpanStatusCode.ERROR }),
    );
    assert.equal(find(metrics.aiRequestDuration, ['m', 'error'])?.count, 1);
  });

  it('reads the older prompt_tokens/completion_tokens names', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        attributes: {
          'gen_ai.system': 'openai',
          'gen_ai.request.model': 'm',
          'gen_ai.usage.prompt_tokens': 5,
          'gen_ai.usage.completion_tokens': 6,
        },
      }),
    );
    assert.equal(find(metrics.aiTokens, ['m', 'prompt'])?.value, 5);
    assert.equal(find(metrics.aiTokens, ['m', 'completion'])?.value, 6);
  });

  it('ignores bad token counts', () => {
    const { metrics, processor } = setup();
    processor.onEnd(
      span({
        attributes: {
          'gen_ai.system': 'openai',
          'gen_ai.request.model': 'm',
          'gen_ai.usage.input_tokens': -1,
          'gen_ai.usage.output_tokens': '7',
        },
      }),
    );
    assert.equal(metrics.aiTokens.size, 0);
    assert.equal(find(metrics.aiRequestDuration, ['m', 'success'])?.count, 1);
  });

  it('adds the call to the ledger under both the response and the request model', () => {
    const { ai, processor } = setup();
    const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'gpt-4o', 'gen_ai.response.model': 'gpt-4o-x' };
    processor.onEnd(span({ attributes, startMs: T0 + 100, durationMs: 500 }));
    processor.onEnd(span({ attributes, startMs: T0 + 100, durationMs: 500 }));
    assert.equal(ai.claim('gpt-4o', T0, T0 + 700), true);
    assert.equal(ai.claim('gpt-4o-x', T0, T0 + 700), true);
    assert.equal(ai.claim('gpt-4o', T0, T0 + 700), false);
    // the time window comes from the span: a caller that started after the span did not make it
    processor.onEnd(span({ attributes, startMs: T0 + 100, durationMs: 500 }));
    assert.equal(ai.claim('gpt-4o', T0 + 200, T0 + 700), false);
    assert.equal(ai.claim('gpt-4o', T0 + 100, T0 + 598), false);
    assert.equal(ai.claim('gpt-4o', T0 + 100, T0 + 600), true);
  });
});

describe('MetricsSpanProcessor: span kinds', () => {
  for (const kind of [SpanKind.SERVER, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
    it(`ignores ${SpanKind[kind]} spans`, () => {
      const { metrics, ai, processor } = setup();
      processor.onEnd(span({ kind, attributes: { 'db.system.name': 'postgresql', 'db.query.text': 'SELECT 1' } }));
      processor.onEnd(span({ kind, attributes: { 'db.system.name': 'redis', 'db.operation.name': 'GET' } }));
      processor.onEnd(span({ kind, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'm' } }));
      assert.equal(recorded(metrics), 0);
      assert.equal(ai.claim('m', 0, T0 + 1e6), false);
    });
  }

  it('ignores CLIENT spans of other kinds (http)', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ attributes: { 'http.request.method': 'GET', 'url.full': 'https://x' } }));
    assert.equal(recorded(metrics), 0);
  });

  it('onStart, forceFlush and shutdown are harmless', async () => {
    const { processor } = setup();
    processor.onStart();
    await processor.forceFlush();
    await processor.shutdown();
  });
});

describe('feedsMetrics', () => {
  it('is true for CLIENT spans with a db or gen_ai attribute', () => {
    for (const attrs of [
      { 'db.system.name': 'postgresql' },
      { 'db.system': 'redis' },
      { 'gen_ai.operation.name': 'chat' },
      { 'gen_ai.system': 'openai' },
      { 'gen_ai.provider.name': 'openai' },
    ]) {
      assert.equal(feedsMetrics(SpanKind.CLIENT, attrs), true, JSON.stringify(attrs));
    }
  });

  it('is false for other CLIENT spans and for missing attributes', () => {
    assert.equal(feedsMetrics(SpanKind.CLIENT, undefined), false);
    assert.equal(feedsMetrics(SpanKind.CLIENT, {}), false);
    assert.equal(feedsMetrics(SpanKind.CLIENT, { 'http.request.method': 'GET' }), false);
  });

  it('is false for non-CLIENT spans even with db attributes', () => {
    for (const kind of [SpanKind.SERVER, SpanKind.INTERNAL, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
      assert.equal(feedsMetrics(kind, { 'db.system.name': 'postgresql', 'gen_ai.system': 'openai' }), false);
    }
  });
});

describe('MetricsSpanProcessor: pipelined Redis commands', () => {
  it('labels "PIPELINE get" and "MULTI set" by their command', () => {
    const { metrics, processor } = setup();
    processor.onEnd(span({ attributes: { 'db.system.name': 'redis', 'db.operation.name': 'PIPELINE get' } }));
    processor.onEnd(span({ attributes: { 'db.system.name': 'redis', 'db.operation.name': 'MULTI set' } }));
    assert.equal(find(metrics.redisOperations, ['get', 'success'])?.value, 1);
    assert.equal(find(metrics.redisOperations, ['set', 'success'])?.value, 1);
  });
});
