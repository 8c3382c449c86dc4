/**
 * A streamed openai call ends when its stream does, not when `create()` resolves: the
 * usage comes in the last event. openai 4 to 7 give a `Stream` whose `iterator` property
 * makes the events; `[Symbol.asyncIterator]`, `tee()` and `toReadableStream()` all go
 * through it (openai 7's chat normalisation too), so wrapping it sees every consumer.
 */

export type StreamEnd = { readonly kind: 'done' } | { readonly kind: 'aborted' } | { readonly kind: 'error'; readonly error: unknown };

interface OpenAiStream {
  iterator: (...args: unknown[]) => AsyncIterator<unknown>;
  readonly controller?: { readonly signal?: AbortSignal };
}

export function isStream(value: unknown): value is OpenAiStream {
  return value !== null && typeof value === 'object' && typeof (value as OpenAiStream).iterator === 'function';
}

/**
 * Has `onEvent` see every event before the app does and `onEnd` called once: at the last
 * event, at an error, or when the app stops early (`break`, `controller.abort()`), which
 * ends the span there instead of leaving it open for ever.
 */
export function observeStream(stream: OpenAiStream, onEvent: (event: unknown) => void, onEnd: (end: StreamEnd) => void): void {
  const original = stream.iterator;
  const signal = stream.controller?.signal;
  let ended = false;
  const end = (how: StreamEnd) => {
    if (ended) return;
    ended = true;
    onEnd(how);
  };
  stream.iterator = function (this: unknown, ...args: unknown[]) {
    return observed(original.apply(this, args), onEvent, signal, end);
  };
}

async function* observed(
  source: AsyncIterator<unknown>,
  onEvent: (event: unknown) => void,
  signal: AbortSignal | undefined,
  end: (how: StreamEnd) => void,
): AsyncGenerator<unknown> {
  let finished = false;
  try {
    for await (const event of { [Symbol.asyncIterator]: () => source }) {
      // Before the app sees it: an app that stops at the finish reason still gets its usage counted if it came.
      onEvent(event);
      yield event;
    }
    finished = true;
  } catch (error) {
    end(signal?.aborted ? { kind: 'aborted' } : { kind: 'error', error });
    throw error;
  } finally {
    // openai ends its iterator quietly on `controller.abort()`; `break` lands here unfinished.
    end(finished && !signal?.aborted ? { kind: 'done' } : { kind: 'aborted' });
  }
}
