import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_BODY_FIELD } from '../redaction/policy';
import { OPERATIONS, type Operation, type Outcome } from './openai-operations';

const op = (name: string): Operation => OPERATIONS.find((o) => o.path.join('.') === name)!.operation;
const fresh = (): Outcome => ({ finishReasons: [] });

describe('openai operations', () => {
  it('chat: model, id, reasons and usage from a result; no text unless capturing', () => {
    const result = {
      id: 'c1',
      model: 'gpt-4o-mini-2024-07-18',
      choices: [{ index: 0, message: { role: 'assistant', content: 'secret reply' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    };
    const off = fresh();
    op('Chat.Completions').result(result, off, false);
    assert.deepEqual(off, { finishReasons: ['stop'], model: 'gpt-4o-mini-2024-07-18', id: 'c1', inputTokens: 3, outputTokens: 4 });
    const on = fresh();
    op('Chat.Completions').result(result, on, true);
    assert.deepEqual(on.output, [{ role: 'assistant', parts: [{ type: 'text', content: 'secret reply' }], finish_reason: 'stop' }]);
  });

  it('chat stream: usage from the last chunk, deltas joined and cut at the body-field cap', () => {
    const into = fresh();
    const chat = op('Chat.Completions');
    const big = 'x'.repeat(MAX_BODY_FIELD);
    chat.event!({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: 'Bon' } }] }, into, true);
    chat.event!({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: big }, finish_reason: 'stop' }] }, into, true);
    chat.event!({ id: 'c', model: 'm', choices: [{ index: 0, delta: { content: 'more' } }] }, into, true);
    chat.event!({ id: 'c', model: 'm', choices: [], usage: { prompt_tokens: 5, completion_tokens: 6 } }, into, true);
    assert.equal(into.inputTokens, 5);
    assert.equal(into.outputTokens, 6);
    assert.deepEqual(into.finishReasons, ['stop']);
    const content = into.output![0]!.parts[0]!.content;
    assert.ok(content.startsWith('Bonxxx') && content.includes('[TRUNCATED'), content.slice(-40));
  });

  it('responses: instructions and input are read only through input(), which openai.ts calls only when capturing', () => {
    const responses = op('Responses');
    assert.deepEqual(Object.keys(responses.request({ model: 'm', instructions: 'be nice', input: 'hi', temperature: 0.5 })), ['gen_ai.request.temperature']);
    assert.deepEqual(responses.input({ instructions: 'be nice', input: 'hi' }), {
      messages: [{ role: 'user', parts: [{ type: 'text', content: 'hi' }] }],
      instructions: [{ type: 'text', content: 'be nice' }],
    });
  });

  it('responses stream: the completed event carries the usage', () => {
    const into = fresh();
    const response = { id: 'r', model: 'm', status: 'completed', usage: { input_tokens: 7, output_tokens: 8 }, output: [] };
    op('Responses').event!({ type: 'response.output_text.delta', delta: 'x' }, into, false);
    op('Responses').event!({ type: 'response.completed', response }, into, false);
    assert.deepEqual(into, { finishReasons: ['completed'], model: 'm', id: 'r', inputTokens: 7, outputTokens: 8 });
  });

  it('embeddings: input tokens only', () => {
    const into = fresh();
    op('Embeddings').result({ model: 'e', usage: { prompt_tokens: 9, total_tokens: 9 } }, into, true);
    assert.deepEqual(into, { finishReasons: [], model: 'e', inputTokens: 9 });
  });
});
