/**
 * What each instrumented openai method means in GenAI semantic conventions: its operation
 * name, the request attributes, and how a result (or a stream's events) gives the response
 * model, id, finish reasons and token usage. One row per method, so chat completions, the
 * Responses API and embeddings share the span and metric code in openai.ts.
 *
 * Message text is read only when `capture` is on: prompts and completions are user data.
 */
import type { Attributes } from '@opentelemetry/api';
import { capped, MAX_BODY_FIELD } from '../redaction/policy';

/** The GenAI conventions' attribute names (semantic-conventions keeps them in its incubating entry). */
export const GEN_AI = {
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
  topP: 'gen_ai.request.top_p',
  encodingFormats: 'gen_ai.request.encoding_formats',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  finishReasons: 'gen_ai.response.finish_reasons',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  systemInstructions: 'gen_ai.system_instructions',
} as const;

type Params = Record<string, unknown>;

interface Part {
  readonly type: 'text';
  readonly content: string;
}

export interface Message {
  readonly role: string;
  readonly parts: Part[];
  readonly finish_reason?: string;
}

/** What a call returned, gathered from its result or its stream's events. */
export interface Outcome {
  model?: string;
  id?: string;
  finishReasons: string[];
  inputTokens?: number;
  outputTokens?: number;
  /** Only when capturing content. */
  output?: Message[];
}

export interface Operation {
  readonly name: 'chat' | 'embeddings';
  request(params: Params): Attributes;
  /** The prompt as the conventions' message list; called only when capturing content. */
  input(params: Params): { messages?: Message[]; instructions?: Part[] };
  result(result: unknown, into: Outcome, capture: boolean): void;
  /** One streamed event; absent where the method does not stream. */
  event?(event: unknown, into: Outcome, capture: boolean): void;
}

const obj = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Each text is cut at the body-field cap: a stream's text is gathered in memory, and the span redaction caps again. */
const text = (content: string): Part => ({ type: 'text', content: capped(content, MAX_BODY_FIELD) });

/** `content` as a string or as parts (`{ type: 'text' | 'input_text' | 'output_text', text }`): the text ones. */
function textParts(content: unknown): Part[] {
  if (typeof content === 'string') return [text(content)];
  return list(content).flatMap((p) => {
    const t = str(obj(p)?.text);
    return t === undefined ? [] : [text(t)];
  });
}

function defined(attrs: Record<string, unknown>): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) out[k] = v as Attributes[string];
  return out;
}

/** Appends a streamed delta to the text of choice `index`, up to the cap. */
function appendDelta(into: Outcome, index: number, delta: string): void {
  const output = (into.output ??= []);
  const message = (output[index] ??= { role: 'assistant', parts: [{ type: 'text', content: '' }] });
  const part = message.parts[0]!;
  if (part.content.length < MAX_BODY_FIELD) (message.parts[0] = text(part.content + delta));
}

function chatUsage(usage: unknown, into: Outcome): void {
  const u = obj(usage);
  if (!u) return;
  into.inputTokens = num(u.prompt_tokens);
  into.outputTokens = num(u.completion_tokens);
}

const chat: Operation = {
  name: 'chat',
  request: (p) =>
    defined({
      [GEN_AI.maxTokens]: num(p.max_completion_tokens) ?? num(p.max_tokens),
      [GEN_AI.temperature]: num(p.temperature),
      [GEN_AI.topP]: num(p.top_p),
    }),
  input: (p) => ({
    messages: list(p.messages).map((m) => ({ role: str(obj(m)?.role) ?? 'user', parts: textParts(obj(m)?.content) })),
  }),
  result(r, into, capture) {
    const res = obj(r);
    if (!res) return;
    into.model = str(res.model);
    into.id = str(res.id);
    const choices = list(res.choices).map(obj);
    into.finishReasons = choices.map((c) => str(c?.finish_reason) ?? '');
    chatUsage(res.usage, into);
    if (capture) {
      into.output = choices.map((c) => ({
        role: 'assistant',
        parts: textParts(obj(c?.message)?.content),
        finish_reason: str(c?.finish_reason) ?? '',
      }));
    }
  },
  event(e, into, capture) {
    const chunk = obj(e);
    if (!chunk) return;
    into.model ??= str(chunk.model);
    into.id ??= str(chunk.id);
    // The last chunk, with `stream_options: { include_usage: true }`, has usage and no choices.
    chatUsage(chunk.usage, into);
    for (const c of list(chunk.choices).map(obj)) {
      const index = num(c?.index) ?? 0;
      const reason = str(c?.finish_reason);
      if (reason) into.finishReasons[index] = reason;
      const delta = str(obj(c?.delta)?.content);
      if (capture && delta) appendDelta(into, index, delta);
    }
  },
};

/** Responses API: `input` is a string or a list of items with a role and string or part content. */
function responsesInput(p: Params): Message[] {
  if (typeof p.input === 'string') return [{ role: 'user', parts: [text(p.input)] }];
  return list(p.input).flatMap((item) => {
    const i = obj(item);
    const role = str(i?.role);
    return role ? [{ role, parts: textParts(i?.content) }] : [];
  });
}

function responsesResult(r: unknown, into: Outcome, capture: boolean): void {
  const res = obj(r);
  if (!res) return;
  into.model = str(res.model) ?? into.model;
  into.id = str(res.id) ?? into.id;
  const usage = obj(res.usage);
  if (usage) {
    into.inputTokens = num(usage.input_tokens);
    into.outputTokens = num(usage.output_tokens);
  }
  const status = str(res.status);
  // A response ends as a whole, not per choice: its status is the reason ('completed', 'incomplete', 'failed').
  if (status && status !== 'in_progress' && status !== 'queued') into.finishReasons = [status];
  if (capture) {
    const messages = list(res.output).map(obj).filter((o) => o?.type === 'message');
    into.output = messages.map((m) => ({ role: str(m?.role) ?? 'assistant', parts: textParts(m?.content) }));
  }
}

/** Stream events that carry the response object: the first has the model and id, the last the usage and output. */
const RESPONSE_EVENTS = new Set(['response.created', 'response.in_progress', 'response.completed', 'response.incomplete', 'response.failed']);

const responses: Operation = {
  name: 'chat',
  request: (p) =>
    defined({
      [GEN_AI.maxTokens]: num(p.max_output_tokens),
      [GEN_AI.temperature]: num(p.temperature),
      [GEN_AI.topP]: num(p.top_p),
    }),
  input: (p) => ({
    messages: responsesInput(p),
    ...(typeof p.instructions === 'string' ? { instructions: [text(p.instructions)] } : {}),
  }),
  result: responsesResult,
  event(e, into, capture) {
    const event = obj(e);
    if (event && RESPONSE_EVENTS.has(str(event.type) ?? '')) responsesResult(event.response, into, capture);
  },
};

const embeddings: Operation = {
  name: 'embeddings',
  request: (p) => defined({ [GEN_AI.encodingFormats]: typeof p.encoding_format === 'string' ? [p.encoding_format] : undefined }),
  // The conventions define no attribute for embedding inputs.
  input: () => ({}),
  result(r, into) {
    const res = obj(r);
    if (!res) return;
    into.model = str(res.model);
    into.inputTokens = num(obj(res.usage)?.prompt_tokens);
  },
};

/** The patched methods: where each lives on the `OpenAI` class, and what it is. */
export const OPERATIONS = [
  { path: ['Chat', 'Completions'], operation: chat },
  { path: ['Responses'], operation: responses },
  { path: ['Embeddings'], operation: embeddings },
] as const satisfies ReadonlyArray<{ path: readonly string[]; operation: Operation }>;
