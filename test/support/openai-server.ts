/**
 * A local OpenAI-compatible endpoint (chat completions with token usage), so the real
 * `openai` client can run on a machine with no internet.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OpenAiServer {
  readonly url: string;
  readonly requests: number;
  close(): Promise<void>;
}

export const CANNED = { model: 'gpt-4o-mini-2024-07-18', promptTokens: 12, completionTokens: 7 } as const;

export async function startOpenAiServer(): Promise<OpenAiServer> {
  let requests = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      requests++;
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const asked = (JSON.parse(body || '{}') as { model?: string }).model;
      if (asked === 'fail-model') {
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'boom', type: 'server_error' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${requests}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: CANNED.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Bonjour !' }, finish_reason: 'stop' }],
          usage: {
            prompt_tokens: CANNED.promptTokens,
            completion_tokens: CANNED.completionTokens,
            total_tokens: CANNED.promptTokens + CANNED.completionTokens,
          },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    get requests() {
      return requests;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
