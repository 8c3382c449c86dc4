import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { Registry, type Family } from './registry';
import { registerCatalog, type CatalogMetrics } from './families';
import { AiLedger } from './ai-ledger';
import {
  metrics as seedMetrics,
  recordError,
  recordProductRecommendation,
  recordRateLimitHit,
  recordUserFeedback,
  recordValidationError,
  sessionEnded,
  sessionStarted,
  setActiveSessions,
  setMetricsState,
  trackAIRequest,
  trackChatMessage,
} from './api';

interface Setup {
  registry: Registry;
  metrics: CatalogMetrics;
  ai: AiLedger;
  debug: string[];
}

function setup(): Setup {
  const registry = new Registry(1000);
  const metrics = registerCatalog(registry, 'innatural_chatbot');
  const ai = new AiLedger();
  const debug: string[] = [];
  setMetricsState({ metrics, ai, debug: (m) => debug.push(m) });
  return { registry, metrics, ai, debug };
}

function value(family: Family, labels: string[]): number | undefined {
  return family
    .all()
    .find((s) => s.labels.length === labels.length && s.labels.every((l, i) => l === labels[i]))?.value;
}

function series(family: Family, labels: string[]) {
  return family.all().find((s) => s.labels.length === labels.length && s.labels.every((l, i) => l === labels[i]));
}

/** Every series of every family as "name{l1,l2}=value|count". */
function snapshot(registry: Registry): string[] {
  return registry.families.flatMap((f) =>
    f.all().map((s) => `${f.spec.name}{${s.labels.join(',')}}=${s.value}|${s.count}|${s.sum}`),
  );
}

const bad: unknown[] = [undefined, null, {}, '', '   ', NaN, [], true];

/** Calls every public function with the given argument in every position. */
function callEverything(arg: unknown): void {
  const a = arg as never;
  trackChatMessage(a, a);
  trackAIRequest(a, a, a, a, a);
  recordError(a, a);
  recordError(a);
  seedMetrics.recordError(a, a);
  setActiveSessions(a);
  sessionStarted();
  sessionEnded();
  recordProductRecommendation(a);
  recordUserFeedback(a);
  recordRateLimitHit(a);
  recordValidationError(a);
}

afterEach(() => setMetricsState(undefined));

describe('api without state', () => {
  it('every function is a no-op and does not throw, whatever the arguments', () => {
    setMetricsState(undefined);
    for (const arg of [...bad, 'ok', 1, -1, Symbol('s'), 10n, Object.create(null)]) {
      assert.doesNotThrow(() => callEverything(arg));
    }
    trackAIRequest('gpt-4o', Date.now() - 10, true, 5, 5);
    trackChatMessage('user', 'en');
  });

  it('does not touch a registry that was previously wired and then unset', () => {
    const { registry } = setup();
    const before = snapshot(registry);
    setMetricsState(undefined);
    callEverything('x');
    trackAIRequest('gpt-4o', Date.now() - 10, true, 5, 5);
    assert.deepEqual(snapshot(registry), before);
  });
});

describe('api with state: recording', () => {
  it('trackChatMessage counts by role and language', () => {
    const { metrics, debug } = setup();
    trackChatMessage('user', 'en');
    trackChatMessage('user', 'en');
    trackChatMessage('assistant', 'fr');
    assert.equal(value(metrics.messages, ['user', 'en']), 2);
    assert.equal(value(metrics.messages, ['assistant', 'fr']), 1);
    assert.equal(metrics.messages.size, 2);
    assert.deepEqual(debug, []);
  });

  it('trackAIRequest observes the duration by model and status, and counts tokens', () => {
    const { metrics, debug } = setup();
    trackAIRequest('gpt-4o', Date.now() - 1500, true, 100, 50);
    trackAIRequest('gpt-4o', Date.now() - 200, false, 7);
    const ok = series(metrics.aiRequestDuration, ['gpt-4o', 'success'])!;
    assert.equal(ok.count, 1);
    assert.ok(ok.sum >= 1.5 && ok.sum < 1.9, `sum ${ok.sum}`);
    // 1.5 s falls in le=2: buckets [0.1, 0.5, 1, 2, 5, 10, +Inf]
    assert.deepEqual(ok.counts, [0, 0, 0, 1, 0, 0, 0]);
    const failed = series(metrics.aiRequestDuration, ['gpt-4o', 'error'])!;
    assert.equal(failed.count, 1);
    assert.ok(failed.sum >= 0.2 && failed.sum < 0.5);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'prompt']), 107);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'completion']), 50);
    assert.deepEqual(debug, []);
  });

  it('trackAIRequest without token counts records only the duration, silently', () => {
    const { metrics, debug } = setup();
    trackAIRequest('m', Date.now(), true);
    assert.equal(series(metrics.aiRequestDuration, ['m', 'success'])?.count, 1);
    assert.equal(metrics.aiTokens.size, 0);
    assert.deepEqual(debug, []);
  });

  it('zero token counts add no series', () => {
    const { metrics } = setup();
    trackAIRequest('m', Date.now(), true, 0, 0);
    assert.equal(metrics.aiTokens.size, 0);
  });

  it('recordError counts by type and severity, severity defaulting to error', () => {
    const { metrics } = setup();
    recordError('db');
    recordError('db', 'error');
    recordError('ai', 'warning');
    seedMetrics.recordError('ai', 'warning');
    assert.equal(value(metrics.errors, ['db', 'error']), 2);
    assert.equal(value(metrics.errors, ['ai', 'warning']), 2);
  });

  it('business counters record on their own families', () => {
    const { metrics } = setup();
    recordProductRecommendation('shoes');
    recordProductRecommendation('shoes');
    recordUserFeedback('positive');
    recordRateLimitHit('/api/chat');
    recordValidationError('/api/chat');
    recordValidationError('/api/other');
    assert.equal(value(metrics.productRecommendations, ['shoes']), 2);
    assert.equal(value(metrics.userFeedback, ['positive']), 1);
    assert.equal(value(metrics.rateLimitHits, ['/api/chat']), 1);
    assert.equal(value(metrics.validationErrors, ['/api/chat']), 1);
    assert.equal(value(metrics.validationErrors, ['/api/other']), 1);
    assert.equal(metrics.errors.size, 0);
    assert.equal(metrics.messages.size, 0);
  });

  it('route labels are the path alone: no query string, fragment, scheme or credentials', () => {
    const { metrics, debug } = setup();
    recordValidationError('/api/reset?token=s3cret');
    recordValidationError('/api/reset#s3cret');
    recordValidationError('/api/reset');
    recordRateLimitHit('https://user:s3cret@api.example/api/chat?key=s3cret#s3cret');
    recordRateLimitHit('/api/chat?page=2');
    assert.deepEqual(metrics.validationErrors.all().map((s) => [s.labels, s.value]), [[['/api/reset'], 3]]);
    assert.deepEqual(metrics.rateLimitHits.all().map((s) => [s.labels, s.value]), [[['/api/chat'], 2]]);
    assert.deepEqual(debug, []);
  });

  it('a route label that is only a query string is "unknown", and the debug line does not carry it', () => {
    const { metrics, debug } = setup();
    recordValidationError('?token=s3cret');
    assert.equal(value(metrics.validationErrors, ['unknown']), 1);
    assert.equal(debug.length, 1);
    assert.doesNotMatch(debug[0]!, /s3cret/);
  });

  it('the query string is stripped before the 128-character cut', () => {
    const { metrics } = setup();
    recordValidationError(`/api/${'r'.repeat(40)}?${'q'.repeat(200)}`);
    assert.deepEqual(metrics.validationErrors.all()[0]!.labels, [`/api/${'r'.repeat(40)}`]);
  });

  it('sessions: set, start, end', () => {
    const { metrics } = setup();
    assert.equal(value(metrics.activeSessions, []), 0);
    setActiveSessions(5);
    assert.equal(value(metrics.activeSessions, []), 5);
    sessionStarted();
    sessionStarted();
    assert.equal(value(metrics.activeSessions, []), 7);
    sessionEnded();
    assert.equal(value(metrics.activeSessions, []), 6);
    setActiveSessions(0);
    assert.equal(value(metrics.activeSessions, []), 0);
    assert.equal(metrics.activeSessions.size, 1);
  });

  it('finite numbers are accepted as label values', () => {
    const { metrics, debug } = setup();
    recordUserFeedback(5 as unknown as string);
    assert.equal(value(metrics.userFeedback, ['5']), 1);
    assert.deepEqual(debug, []);
  });
});

describe('api with state: bad arguments', () => {
  for (const arg of [undefined, null, {}, '', '   ', NaN, Infinity, [1]]) {
    it(`label ${inspect(arg)} becomes "unknown" with a debug line`, () => {
      const { metrics, debug } = setup();
      const a = arg as never;
      assert.doesNotThrow(() => {
        trackChatMessage(a, 'en');
        recordError(a, a);
        recordProductRecommendation(a);
        recordUserFeedback(a);
        recordRateLimitHit(a);
        recordValidationError(a);
        trackAIRequest(a, Date.now(), true);
      });
      assert.equal(value(metrics.messages, ['unknown', 'en']), 1);
      // recordError(undefined, undefined) takes the default severity 'error'
      const severity = arg === undefined ? 'error' : 'unknown';
      assert.equal(value(metrics.errors, ['unknown', severity]), 1);
      assert.equal(value(metrics.productRecommendations, ['unknown']), 1);
      assert.equal(value(metrics.userFeedback, ['unknown']), 1);
      assert.equal(value(metrics.rateLimitHits, ['unknown']), 1);
      assert.equal(value(metrics.validationErrors, ['unknown']), 1);
      assert.equal(series(metrics.aiRequestDuration, ['unknown', 'success'])?.count, 1);
      // one per bad label: role, error type, severity (unless defaulted), category, feedback type, route x2, model
      assert.equal(debug.length, arg === undefined ? 7 : 8, debug.join('\n'));
      for (const line of debug) assert.match(line, /recorded as "unknown"/);
      assert.match(debug[0]!, /role/);
    });
  }

  // The module promises "bad arguments are normalised or dropped with a debug line, never thrown".
  // A circular object (an Express `req` passed by mistake as a route, say) or a BigInt makes
  // JSON.stringify throw inside label(); a null-prototype object makes String() throw inside count()
  // and in trackAIRequest's startTime debug line.
  it('a circular object as a label does not throw and is recorded as "unknown"', () => {
    const { metrics, debug } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.doesNotThrow(() => recordRateLimitHit(circular as never));
    assert.equal(value(metrics.rateLimitHits, ['unknown']), 1);
    assert.equal(debug.length, 1);
  });

  it('a BigInt as a label does not throw and is recorded as "unknown"', () => {
    const { metrics } = setup();
    assert.doesNotThrow(() => recordUserFeedback(10n as never));
    assert.equal(metrics.userFeedback.size, 1);
  });

  it('a null-prototype object as a token count is dropped, not thrown', () => {
    const { metrics } = setup();
    assert.doesNotThrow(() => trackAIRequest('m', Date.now(), true, Object.create(null) as never, 4));
    assert.equal(series(metrics.aiRequestDuration, ['m', 'success'])?.count, 1);
    assert.equal(value(metrics.aiTokens, ['m', 'completion']), 4);
  });

  it('a null-prototype object as startTime drops the duration, not thrown', () => {
    const { metrics } = setup();
    assert.doesNotThrow(() => trackAIRequest('m', Object.create(null) as never, true, 3));
    assert.equal(value(metrics.aiTokens, ['m', 'prompt']), 3);
  });

  it('a null-prototype object given to setActiveSessions is ignored, not thrown', () => {
    const { metrics } = setup();
    assert.doesNotThrow(() => setActiveSessions(Object.create(null) as never));
    assert.equal(value(metrics.activeSessions, []), 0);
  });

  it('labels longer than 128 characters are truncated to 128', () => {
    const { metrics } = setup();
    const long = 'r'.repeat(300);
    recordRateLimitHit(long);
    recordRateLimitHit('r'.repeat(128) + 'different tail');
    const labels = metrics.rateLimitHits.all().map((s) => s.labels[0]);
    assert.deepEqual(labels, ['r'.repeat(128)]);
    assert.equal(value(metrics.rateLimitHits, ['r'.repeat(128)]), 2);
    recordRateLimitHit('s'.repeat(128));
    assert.equal(value(metrics.rateLimitHits, ['s'.repeat(128)]), 1);
  });

  for (const [what, tokens] of [
    ['NaN', NaN],
    ['negative', -5],
    ['string', '12'],
    ['Infinity', Infinity],
  ] as const) {
    it(`${what} token counts are dropped with a debug line; the request is still counted`, () => {
      const { metrics, debug } = setup();
      trackAIRequest('gpt-4o', Date.now() - 10, true, tokens as never, tokens as never);
      assert.equal(series(metrics.aiRequestDuration, ['gpt-4o', 'success'])?.count, 1);
      assert.equal(metrics.aiTokens.size, 0);
      assert.equal(debug.length, 2, debug.join('\n'));
      assert.match(debug[0]!, /promptTokens/);
      assert.match(debug[1]!, /completionTokens/);
    });
  }

  it('a bad prompt count does not drop a good completion count', () => {
    const { metrics, debug } = setup();
    trackAIRequest('gpt-4o', Date.now(), true, -1, 30);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'prompt']), undefined);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'completion']), 30);
    assert.equal(debug.length, 1);
  });

  for (const [what, start] of [
    ['in the future', () => Date.now() + 60_000],
    ['NaN', () => NaN],
    ['a string', () => String(Date.now())],
    ['undefined', () => undefined],
  ] as const) {
    it(`a startTime ${what} drops the duration with a debug line; tokens still count`, () => {
      const { metrics, debug } = setup();
      assert.doesNotThrow(() => trackAIRequest('gpt-4o', start() as never, true, 10, 20));
      assert.equal(metrics.aiRequestDuration.size, 0);
      assert.equal(value(metrics.aiTokens, ['gpt-4o', 'prompt']), 10);
      assert.equal(value(metrics.aiTokens, ['gpt-4o', 'completion']), 20);
      assert.equal(debug.length, 1, debug.join('\n'));
      assert.match(debug[0]!, /startTime/);
    });
  }

  it('sessionEnded never goes below 0', () => {
    const { metrics } = setup();
    sessionEnded();
    sessionEnded();
    assert.equal(value(metrics.activeSessions, []), 0);
    sessionStarted();
    sessionEnded();
    sessionEnded();
    assert.equal(value(metrics.activeSessions, []), 0);
    sessionStarted();
    assert.equal(value(metrics.activeSessions, []), 1);
  });

  it('setActiveSessions ignores -1, NaN and non-numbers, with a debug line', () => {
    const { metrics, debug } = setup();
    setActiveSessions(3);
    setActiveSessions(-1);
    assert.equal(value(metrics.activeSessions, []), 3);
    assert.equal(debug.length, 1);
    assert.match(debug[0]!, /active sessions/);
    setActiveSessions(NaN);
    setActiveSessions('4' as never);
    setActiveSessions(Infinity);
    assert.equal(value(metrics.activeSessions, []), 3);
    assert.equal(debug.length, 4);
  });
});

describe('api with state: dedupe against instrumented openai calls', () => {
  it('trackAIRequest after a matching ledger entry is not counted; a second call is', () => {
    const { metrics, ai, debug } = setup();
    const now = Date.now();
    ai.add(['gpt-4o-2024-08-06', 'gpt-4o'], now - 400, now - 10);
    trackAIRequest('gpt-4o', now - 500, true, 10, 5);
    assert.equal(metrics.aiRequestDuration.size, 0);
    assert.equal(metrics.aiTokens.size, 0);
    assert.equal(debug.length, 1);
    assert.match(debug[0]!, /not counted twice/);

    trackAIRequest('gpt-4o', now - 500, true, 10, 5);
    assert.equal(series(metrics.aiRequestDuration, ['gpt-4o', 'success'])?.count, 1);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'prompt']), 10);
    assert.equal(value(metrics.aiTokens, ['gpt-4o', 'completion']), 5);
  });

  it('an entry for another model, or one that started before startTime, is not claimed', () => {
    const { metrics, ai } = setup();
    const now = Date.now();
    ai.add(['claude'], now - 400, now - 10);
    ai.add(['gpt-4o'], now - 900, now - 10);
    trackAIRequest('gpt-4o', now - 500, false);
    assert.equal(series(metrics.aiRequestDuration, ['gpt-4o', 'error'])?.count, 1);
    // both entries are still there for their real owners
    assert.equal(ai.claim('claude', now - 500, Date.now()), true);
    assert.equal(ai.claim('gpt-4o', now - 1000, Date.now()), true);
  });
});
