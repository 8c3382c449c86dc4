/**
 * The openai client, 4.19 to 7: a CLIENT span per chat completion, Responses API call and
 * embeddings request, on the current GenAI semantic conventions (`{operation} {model}`,
 * gen_ai.provider.name, request and response model, token usage), and the conventions'
 * gen_ai.client.* histograms. Our AI metrics derive from these spans (metrics/spans.ts).
 *
 * Upstream's instrumentation-openai stops below 7; this one is built the same way, on
 * InstrumentationBase, so it could be offered there. Unlike it, a stream the app stops
 * early ends its span, nothing of a prompt (Responses `instructions` included) is recorded
 * unless `captureMessageContent`, and no log record is emitted per message.
 */
import { context, SpanKind, SpanStatusCode, trace, ValueType, type Attributes, type Histogram, type Span } from '@opentelemetry/api';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, type InstrumentationConfig } from '@opentelemetry/instrumentation';
import { GEN_AI, OPERATIONS, type Message, type Operation, type Outcome } from './openai-operations';
import { isStream, observeStream, type StreamEnd } from './openai-stream';

export const OPENAI_SCOPE = '@innatural/otel-openai';
/** 4.19 is upstream's floor too: the first with `_thenUnwrap` and `Stream#iterator` as they are still. */
export const OPENAI_VERSIONS = ['>=4.19.0 <8'];

export interface OpenAIInstrumentationConfig extends InstrumentationConfig {
  /** Prompt and completion text as gen_ai.input.messages / gen_ai.output.messages (default false: user data). */
  captureMessageContent?: boolean;
}

type Method = (this: Resource, ...args: unknown[]) => unknown;
interface Resource {
  readonly _client?: { readonly baseURL?: string };
}
interface ApiPromise {
  _thenUnwrap?(transform: (value: unknown) => unknown): unknown;
  readonly responsePromise?: Promise<unknown>;
  then(onValue: (value: unknown) => unknown, onError: (err: unknown) => unknown): unknown;
}

const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** server.address and server.port from the client's baseURL: which endpoint (OpenAI, Azure, a local model) answered. */
function parseServer(baseURL: string): Attributes {
  try {
    const url = new URL(baseURL);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    return { 'server.address': url.hostname, 'server.port': port };
  } catch {
    return {};
  }
}

/** An app has a client or two: parsing their URL once each is enough. Bounded, since a client per tenant is possible. */
const servers = new Map<string, Attributes>();
function serverAttributes(baseURL: string | undefined): Attributes {
  if (!baseURL) return {};
  let attrs = servers.get(baseURL);
  if (!attrs) {
    if (servers.size >= 64) servers.clear();
    servers.set(baseURL, (attrs = parseServer(baseURL)));
  }
  return attrs;
}

function errorType(err: unknown): string {
  const name = (err as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? name : '_OTHER';
}

/** One call in flight: its span, and what ends it once. */
class Call {
  readonly outcome: Outcome = { finishReasons: [] };
  private readonly startedAt = performance.now();
  private ended = false;

  constructor(
    private readonly owner: OpenAIInstrumentation,
    readonly operation: Operation,
    readonly span: Span,
    private readonly common: Attributes,
    readonly capture: boolean,
  ) {}

  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const { span, outcome } = this;
    const reasons = outcome.finishReasons.filter((r) => r !== undefined && r !== '');
    const attrs: Attributes = {};
    if (outcome.model) attrs[GEN_AI.responseModel] = outcome.model;
    if (outcome.id) attrs[GEN_AI.responseId] = outcome.id;
    if (reasons.length > 0) attrs[GEN_AI.finishReasons] = reasons;
    if (outcome.inputTokens !== undefined) attrs[GEN_AI.inputTokens] = outcome.inputTokens;
    if (outcome.outputTokens !== undefined) attrs[GEN_AI.outputTokens] = outcome.outputTokens;
    if (this.capture && outcome.output) attrs[GEN_AI.outputMessages] = JSON.stringify(outcome.output.filter(Boolean));
    if (error !== undefined) {
      attrs['error.type'] = errorType(error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    span.setAttributes(attrs);
    span.end();
    this.owner.record(this, (performance.now() - this.startedAt) / 1000, attrs);
  }

  /** Common attributes plus the response model and error type: the conventions' metric attributes. */
  metricAttributes(attrs: Attributes): Attributes {
    const out = { ...this.common };
    if (attrs[GEN_AI.responseModel] !== undefined) out[GEN_AI.responseModel] = attrs[GEN_AI.responseModel];
    if (attrs['error.type'] !== undefined) out['error.type'] = attrs['error.type'];
    return out;
  }
}

export class OpenAIInstrumentation extends InstrumentationBase<OpenAIInstrumentationConfig> {
  // Set by the base constructor (through _updateMetricInstruments), before field initialisers run.
  declare private duration: Histogram;
  declare private tokens: Histogram;

  constructor(config: OpenAIInstrumentationConfig = {}) {
    super(OPENAI_SCOPE, '1.0.0', config);
  }

  protected init() {
    // The CommonJS exports (a callable that is also the class's namespace) and the ES module
    // namespace import-in-the-middle hands over both name the class `OpenAI`, and `default`.
    const classOf = (exports: Record<PropertyKey, unknown>) => (exports.OpenAI ?? exports.default) as Record<string, unknown> | undefined;
    const targets = (exports: Record<PropertyKey, unknown>) =>
      OPERATIONS.flatMap(({ path, operation }) => {
        let owner: unknown = classOf(exports);
        for (const key of path) owner = (owner as Record<string, unknown> | undefined)?.[key];
        const proto = (owner as { prototype?: { create?: unknown } } | undefined)?.prototype;
        return proto && typeof proto.create === 'function' ? [{ proto: proto as { create: Method }, operation }] : [];
      });
    return [
      new InstrumentationNodeModuleDefinition(
        'openai',
        OPENAI_VERSIONS,
        (exports: Record<PropertyKey, unknown>) => {
          for (const { proto, operation } of targets(exports)) this._wrap(proto, 'create', (original: Method) => this.patch(original, operation));
          return exports;
        },
        (exports: Record<PropertyKey, unknown>) => {
          for (const { proto } of targets(exports)) this._unwrap(proto, 'create');
        },
      ),
    ];
  }

  protected override _updateMetricInstruments(): void {
    this.duration = this.meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
    this.tokens = this.meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Measures number of input and output tokens used',
      unit: '{token}',
      valueType: ValueType.INT,
      advice: { explicitBucketBoundaries: TOKEN_BUCKETS },
    });
  }

  /** The conventions' histograms, after the span ended. */
  record(call: Call, seconds: number, attrs: Attributes): void {
    const metric = call.metricAttributes(attrs);
    this.duration.record(seconds, metric);
    const { inputTokens, outputTokens } = call.outcome;
    if (inputTokens !== undefined) this.tokens.record(inputTokens, { ...metric, 'gen_ai.token.type': 'input' });
    if (outputTokens !== undefined) this.tokens.record(outputTokens, { ...metric, 'gen_ai.token.type': 'output' });
  }

  private patch(original: Method, operation: Operation): Method {
    const instrumentation = this;
    return function create(this: Resource, ...args: unknown[]) {
      if (!instrumentation.isEnabled()) return original.apply(this, args);
      let call: Call;
      try {
        call = instrumentation.start(operation, args[0], this);
      } catch (err) {
        instrumentation._diag.error('openai: could not start the span; this call is not traced', err);
        return original.apply(this, args);
      }
      let returned: unknown;
      try {
        returned = context.with(trace.setSpan(context.active(), call.span), () => original.apply(this, args));
      } catch (err) {
        call.end(err);
        throw err;
      }
      return instrumentation.settle(call, returned);
    };
  }

  private start(operation: Operation, params: unknown, resource: Resource): Call {
    const p = (params ?? {}) as Record<string, unknown>;
    const model = typeof p.model === 'string' ? p.model : undefined;
    const common: Attributes = {
      [GEN_AI.operation]: operation.name,
      [GEN_AI.provider]: 'openai',
      ...(model ? { [GEN_AI.requestModel]: model } : {}),
      ...serverAttributes(resource?._client?.baseURL),
    };
    const capture = this.getConfig().captureMessageContent === true;
    const attributes: Attributes = { ...common, ...operation.request(p) };
    if (capture) {
      const { messages, instructions } = operation.input(p);
      if (messages) attributes[GEN_AI.inputMessages] = JSON.stringify(messages satisfies Message[]);
      if (instructions) attributes[GEN_AI.systemInstructions] = JSON.stringify(instructions);
    }
    const span = this.tracer.startSpan(model ? `${operation.name} ${model}` : operation.name, { kind: SpanKind.CLIENT, attributes });
    return new Call(this, operation, span, common, capture);
  }

  /**
   * The app gets the same APIPromise back, chained through its own `_thenUnwrap`: parsing stays
   * lazy (`asResponse()` still reads the raw body), and our step runs when the app's does.
   * Request failures come from `responsePromise`, which rejects without being parsed.
   */
  private settle(call: Call, returned: unknown): unknown {
    const promise = returned as ApiPromise | undefined;
    const onValue = (value: unknown) => {
      this.guard(() => this.onResult(call, value));
      return value;
    };
    const onError = (err: unknown) => call.end(err);
    if (typeof promise?._thenUnwrap === 'function' && promise.responsePromise instanceof Promise) {
      promise.responsePromise.then(undefined, onError);
      return promise._thenUnwrap(onValue);
    }
    if (typeof promise?.then === 'function') {
      promise.then(onValue, onError);
      return returned;
    }
    call.end();
    return returned;
  }

  private onResult(call: Call, value: unknown): void {
    const { operation, outcome, capture } = call;
    if (isStream(value) && operation.event) {
      const event = operation.event;
      observeStream(
        value,
        (e) => this.guard(() => event(e, outcome, capture)),
        (how: StreamEnd) => this.guard(() => call.end(how.kind === 'error' ? how.error : undefined)),
      );
      return;
    }
    operation.result(value, outcome, capture);
    call.end();
  }

  /** Our own failure is one diag line; the app's call goes on untouched. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this._diag.error('openai: could not record this call', err);
    }
  }
}
