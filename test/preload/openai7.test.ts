/**
 * openai 7 under the real preload, with `--require` (its CommonJS build) and `--import` (its
 * ES module build), against a local OpenAI-compatible server: every kind of call gives a gen_ai
 * CLIENT span on the current conventions and moves the documented AI metrics on /metrics by
 * exactly what it should. Upstream's instrumentation-openai stops below 7: before ours, none of
 * this happened. Then the prompt: in no sink by default, on the spans (redacted) when asked for.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SCOPE } from '../../src/instrumentations/openai';
import { healthUrl, REPO, sinkEnv, startApp, type Preload, type RunningApp } from '../support/app';
import { CANNED, CANNED_EMBEDDING, startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { layOutOpenai7App, type Openai7App } from '../support/openai7-app';
import { startOtlpSink, type OtlpSink, type SinkSpan } from '../support/otlp-sink';
import { parseExposition, type Exposition } from '../support/prom-text';

const P = 'innatural_chatbot';
const CLIENT = 3;
const ERROR = 2;
/** Words of the fixture's prompt (test/fixtures/openai-app/routes.js), and the secret inside it. */
const PROMPT_WORDS = 'Quelle huile pour cheveux secs';
const SECRET = 'hunter2-not-for-telemetry';

/** A sample's value, 0 when the series does not exist (yet). */
function value(m: Exposition, name: string, labels: Record<string, string>): number {
  return m.find(name, labels).find((s) => Object.keys(s.labels).length === Object.keys(labels).length)?.value ?? 0;
}

interface Step {
  readonly body: Record<string, unknown>;
  readonly span: SinkSpan;
  /** How much a series moved during the call. */
  delta(name: string, labels: Record<string, string>): number;
}

function appEnv(sink: OtlpSink, ai: OpenAiServer, extra: Record<string, string> = {}): Record<string, string> {
  return sinkEnv(sink, {
    OTEL_SERVICE_NAME: 'openai7',
    OTEL_METRICS_EXPORTER: 'prometheus,otlp',
    OTEL_METRIC_EXPORT_INTERVAL: '200',
    FIXTURE_OPENAI_URL: ai.url,
    FIXTURE_OTEL: join(REPO, 'dist', 'src', 'index.js'),
    ...extra,
  });
}

describe('openai 7 under the preload', () => {
  let sink: OtlpSink;
  let ai: OpenAiServer;
  let layout: Openai7App;
  before(async () => {
    [sink, ai] = await Promise.all([startOtlpSink(), startOpenAiServer()]);
    layout = layOutOpenai7App();
  });
  after(async () => {
    await Promise.all([sink?.close(), ai?.close()]);
    layout?.remove();
  });

  for (const preload of ['require', 'import'] as const satisfies readonly Preload[]) {
    describe(`--${preload}`, () => {
      let app: RunningApp;
      let health: string;
      const scrape = async () => parseExposition(await (await fetch(`${health}/metrics`)).text());

      /** One route of the fixture: its answer, the one gen_ai span it made, and the metrics it moved. */
      const step = async (route: string): Promise<Step> => {
        sink.clear();
        const before = await scrape();
        const res = await app.get(route);
        const body = (await res.json()) as Record<string, unknown>;
        assert.equal(res.status, 200, JSON.stringify(body));
        const span = await sink.waitFor(() => sink.spans.find((s) => s.scope.name === OPENAI_SCOPE));
        const after = await scrape();
        // Exactly one: no second span from another copy of an openai instrumentation.
        assert.equal(sink.spans.filter((s) => s.attributes['gen_ai.operation.name'] !== undefined).length, 1);
        return { body, span, delta: (name, labels) => value(after, name, labels) - value(before, name, labels) };
      };
      const ok = { model: CANNED.model, status: 'success' };
      const tokens = (type: 'prompt' | 'completion', model: string = CANNED.model) => [`${P}_ai_tokens_total`, { model, type }] as const;

      before(async () => {
        app = await startApp({ fixture: layout.entry(preload), preload, env: appEnv(sink, ai) });
        health = await healthUrl(app);
      });
      after(() => app?.kill());

      it('chat completion: a gen_ai chat span, one AI request and its tokens (trackAIRequest after it does not count again)', async () => {
        const { body, span, delta } = await step('/chat');
        assert.equal(body.reply, CANNED.reply);
        assert.equal(span.kind, CLIENT);
        assert.equal(span.name, 'chat gpt-4o-mini');
        assert.deepEqual(
          {
            op: span.attributes['gen_ai.operation.name'],
            provider: span.attributes['gen_ai.provider.name'],
            request: span.attributes['gen_ai.request.model'],
            response: span.attributes['gen_ai.response.model'],
            input: span.attributes['gen_ai.usage.input_tokens'],
            output: span.attributes['gen_ai.usage.output_tokens'],
            reasons: span.attributes['gen_ai.response.finish_reasons'],
          },
          { op: 'chat', provider: 'openai', request: 'gpt-4o-mini', response: CANNED.model, input: CANNED.promptTokens, output: CANNED.completionTokens, reasons: ['stop'] },
        );
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, ok), 1);
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, { model: 'gpt-4o-mini', status: 'success' }), 0, 'not counted twice');
        assert.equal(delta(...tokens('prompt')), CANNED.promptTokens);
        assert.equal(delta(...tokens('completion')), CANNED.completionTokens);
      });

      it('streamed chat completion: the span ends with the stream, tokens from stream_options.include_usage', async () => {
        const { body, span, delta } = await step('/chat-stream');
        assert.equal(body.reply, 'Bonjour !');
        assert.equal(span.attributes['gen_ai.usage.input_tokens'], CANNED.promptTokens);
        assert.equal(span.attributes['gen_ai.usage.output_tokens'], CANNED.completionTokens);
        assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['stop']);
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, ok), 1);
        assert.equal(delta(...tokens('prompt')), CANNED.promptTokens);
        assert.equal(delta(...tokens('completion')), CANNED.completionTokens);
      });

      it('streamed chat completion without usage: counted, no tokens', async () => {
        const { body, span, delta } = await step('/chat-stream?usage=0');
        assert.equal(body.reply, 'Bonjour !');
        assert.equal(span.attributes['gen_ai.usage.input_tokens'], undefined);
        assert.equal(span.attributes['gen_ai.response.model'], CANNED.model);
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, ok), 1);
        assert.equal(delta(...tokens('prompt')), 0);
        assert.equal(delta(...tokens('completion')), 0);
      });

      it('Responses API, plain and streamed: chat spans with the response’s usage', async () => {
        for (const route of ['/responses', '/responses-stream']) {
          const { body, span, delta } = await step(route);
          assert.equal(body.reply, CANNED.reply, route);
          assert.equal(span.name, 'chat gpt-4o-mini', route);
          assert.equal(span.attributes['gen_ai.response.model'], CANNED.model, route);
          assert.equal(span.attributes['gen_ai.usage.input_tokens'], CANNED.promptTokens, route);
          assert.equal(span.attributes['gen_ai.usage.output_tokens'], CANNED.completionTokens, route);
          assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], ['completed'], route);
          assert.equal(span.attributes['gen_ai.system_instructions'], undefined, `${route}: instructions are prompt text`);
          assert.equal(delta(`${P}_ai_request_duration_seconds_count`, ok), 1, route);
          assert.equal(delta(...tokens('prompt')), CANNED.promptTokens, route);
          assert.equal(delta(...tokens('completion')), CANNED.completionTokens, route);
        }
      });

      it('embeddings: an embeddings span, input tokens only', async () => {
        const { body, span, delta } = await step('/embeddings');
        assert.equal(body.dimensions, 3);
        assert.equal(span.name, 'embeddings text-embedding-3-small');
        assert.equal(span.attributes['gen_ai.operation.name'], 'embeddings');
        assert.equal(span.attributes['gen_ai.usage.input_tokens'], CANNED_EMBEDDING.promptTokens);
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, { model: CANNED_EMBEDDING.model, status: 'success' }), 1);
        assert.equal(delta(...tokens('prompt', CANNED_EMBEDDING.model)), CANNED_EMBEDDING.promptTokens);
      });

      it('an error status: the span is an error with error.type, counted as an error, the app gets its error', async () => {
        const { body, span, delta } = await step('/fail');
        assert.deepEqual(body, { failed: true, status: 500, name: 'InternalServerError' });
        assert.equal(span.status.code, ERROR);
        assert.equal(span.attributes['error.type'], 'InternalServerError');
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, { model: 'fail-model', status: 'error' }), 1);
      });

      it('a stream the app stops: the span ends there (not left open), the request is closed, no tokens', async () => {
        const abandoned = ai.abandoned;
        const { body, span, delta } = await step('/abort');
        assert.deepEqual(body, { stopped: true });
        assert.equal(span.attributes['gen_ai.response.model'], CANNED.model);
        assert.equal(span.attributes['gen_ai.usage.input_tokens'], undefined);
        assert.equal(span.attributes['gen_ai.response.finish_reasons'], undefined);
        assert.notEqual(span.status.code, ERROR, 'the app stopping is not a provider error');
        assert.equal(delta(`${P}_ai_request_duration_seconds_count`, ok), 1);
        assert.equal(delta(...tokens('prompt')), 0);
        await sink.waitFor(() => ai.abandoned > abandoned);
      });

      it('no prompt text in any sink: spans, logs, OTLP metrics, /metrics', async () => {
        await app.get('/chat');
        // A metric export after the calls, so every sink has seen them.
        const since = sink.requests.length;
        await sink.waitFor(() => sink.requests.slice(since).some((r) => r.path === '/v1/metrics'));
        const sent = Buffer.concat(sink.requests.map((r) => r.bytes)).toString('latin1');
        assert.ok(sent.includes('gen_ai.operation.name'), 'the sink did get the spans');
        for (const word of [PROMPT_WORDS, SECRET, CANNED.reply]) {
          assert.ok(!sent.includes(word), `"${word}" was sent`);
          assert.ok(!(await (await fetch(`${health}/metrics`)).text()).includes(word), `"${word}" on /metrics`);
        }
      });
    });
  }

  it('OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true: prompt and reply on the span, through the redaction policy', async () => {
    sink.clear();
    const app = await startApp({
      fixture: layout.entry('require'),
      env: appEnv(sink, ai, { OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: 'true' }),
    });
    try {
      for (const route of ['/chat', '/chat-stream', '/responses']) assert.equal((await app.get(route)).status, 200, route);
      const spans = await sink.waitFor(() => {
        const found = sink.spans.filter((s) => s.scope.name === OPENAI_SCOPE);
        return found.length === 3 && found;
      });
      for (const span of spans) {
        const input = String(span.attributes['gen_ai.input.messages']);
        const messages = JSON.parse(input) as Array<{ role: string; parts: Array<{ type: string; content: string }> }>;
        assert.equal(messages[0]!.role, 'user');
        assert.match(messages[0]!.parts[0]!.content, new RegExp(`^${PROMPT_WORDS} \\? password=\\[REDACTED\\]`));
        assert.ok(!input.includes(SECRET), input);
        assert.match(String(span.attributes['gen_ai.output.messages']), /Bonjour !/);
      }
      const responses = spans.find((s) => s.attributes['gen_ai.system_instructions'] !== undefined);
      assert.match(String(responses?.attributes['gen_ai.system_instructions']), /Réponds en français/);
      const sent = Buffer.concat(sink.requests.map((r) => r.bytes)).toString('utf8');
      assert.ok(!sent.includes(SECRET), 'the secret is in no sink');
    } finally {
      app.kill();
    }
  });
});
