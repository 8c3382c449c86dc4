/**
 * A local OpenAI-compatible endpoint, so the real `openai` client can run on a machine with
 * no internet: chat completions (plain, and streamed with usage when `stream_options.include_usage`
 * asks for it), the Responses API (plain and streamed), embeddings, a failing model
 * (`fail-model`: 500) and a stream that never finishes (`hang-model`: one chunk, then nothing
 * until the client goes away).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenAiServer {
  readonly url: string;
  readonly requests: number;
  /** Streams the client closed before they ended. */
  readonly abandoned: number;
  close(): Promise<void>;
}

export const CANNED = { model: 'gpt-4o-mini-2024-07-18', promptTokens: 12, completionTokens: 7, reply: 'Bonjour !' } as const;
export const CANNED_EMBEDDING = { model: 'text-embedding-3-small', promptTokens: 5 } as const;

type Body = Record<string, unknown>;
type Route = (body: Body, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, value: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));

/** Sends events as server-sent events, then `[DONE]` (chat) or nothing more (Responses, whose last event says it is done). */
function sse(res: ServerResponse, events: readonly unknown[], done: boolean): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for (const event of events) {
    const type = (event as { type?: unknown }).type;
    res.write(`${typeof type === 'string' ? `event: ${type}\n` : ''}data: ${JSON.stringify(event)}\n\n`);
  }
  res.end(done ? 'data: [DONE]\n\n' : '');
}

const usage = { prompt_tokens: CANNED.promptTokens, completion_tokens: CANNED.completionTokens, total_tokens: CANNED.promptTokens + CANNED.completionTokens };

function chatChunks(id: string, includeUsage: boolean): unknown[] {
  const chunk = (choices: unknown[], extra: Body = {}) => ({ id, object: 'chat.completion.chunk', created: 1, model: CANNED.model, choices, ...extra });
  return [
    chunk([{ index: 0, delta: { role: 'assistant', content: 'Bon' }, finish_reason: null }]),
    chunk([{ index: 0, delta: { content: 'jour !' }, finish_reason: 'stop' }]),
    ...(includeUsage ? [chunk([], { usage })] : []),
  ];
}

function response(id: string): Body {
  return {
    id,
    object: 'response',
    created_at: 1,
    status: 'completed',
    model: CANNED.model,
    output: [{ type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: CANNED.reply, annotations: [] }] }],
    usage: { input_tokens: CANNED.promptTokens, output_tokens: CANNED.completionTokens, total_tokens: CANNED.promptTokens + CANNED.completionTokens },
  };
}

export async function startOpenAiServer(): Promise<OpenAiServer> {
  let requests = 0;
  let abandoned = 0;
  const hang = (res: ServerResponse, first: unknown) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' }).write(`data: ${JSON.stringify(first)}\n\n`);
    res.on('close', () => {
      if (!res.writableEnded) abandoned++;
    });
  };
  const ROUTES: Record<string, Route> = {
    '/chat/completions': (body, res) => {
      const id = `chatcmpl-${requests}`;
      if (body.model === 'hang-model') return hang(res, chatChunks(id, false)[0]);
      if (body.stream === true) {
        const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
        return sse(res, chatChunks(id, includeUsage), true);
      }
      json(res, 200, {
        id,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: CANNED.model,
        choices: [{ index: 0, message: { role: 'assistant', content: CANNED.reply }, finish_reason: 'stop' }],
        usage,
      });
    },
    '/responses': (body, res) => {
      const id = `resp_${requests}`;
      if (body.stream !== true) return json(res, 200, response(id));
      const started = { ...response(id), status: 'in_progress', output: [], usage: null };
      sse(
        res,
        [
          { type: 'response.created', sequence_number: 0, response: started },
          { type: 'response.output_text.delta', sequence_number: 1, item_id: `msg_${id}`, output_index: 0, content_index: 0, delta: CANNED.reply },
          { type: 'response.completed', sequence_number: 2, response: response(id) },
        ],
        false,
      );
    },
    '/embeddings': (body, res) => {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      json(res, 200, {
        object: 'list',
        model: CANNED_EMBEDDING.model,
        data: inputs.map((_, index) => ({ object: 'embedding', index, embedding: [0.25, -0.5, 1] })),
        usage: { prompt_tokens: CANNED_EMBEDDING.promptTokens, total_tokens: CANNED_EMBEDDING.promptTokens },
      });
    },
  };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8').on('data', (d: string) => (text += d));
    req.on('end', () => {
      requests++;
      const route = req.method === 'POST' ? Object.entries(ROUTES).find(([path]) => req.url?.endsWith(path))?.[1] : undefined;
      if (!route) return json(res, 404, { error: { message: 'not found' } });
      const body = JSON.parse(text || '{}') as Body;
      if (body.model === 'fail-model') return json(res, 500, { error: { message: 'boom', type: 'server_error' } });
      route(body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    get abandoned() {
      return abandoned;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
