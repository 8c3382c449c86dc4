import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { observeStream, type StreamEnd } from './openai-stream';

/** A stand-in for openai's Stream: `iterator` makes the events, as in openai 4 to 7. */
function fakeStream(events: readonly unknown[], failAt?: number) {
  const controller = new AbortController();
  return {
    controller,
    iterator: async function* () {
      for (const [i, e] of events.entries()) {
        if (i === failAt) throw new Error('connection reset');
        // openai ends quietly once its controller is aborted.
        if (controller.signal.aborted) return;
        yield e;
      }
    },
    [Symbol.asyncIterator]() {
      return this.iterator();
    },
  };
}

function watch(stream: ReturnType<typeof fakeStream>) {
  const seen: unknown[] = [];
  const ends: StreamEnd[] = [];
  observeStream(stream, (e) => seen.push(e), (end) => ends.push(end));
  return { seen, ends };
}

describe('observeStream', () => {
  it('sees every event before the app and ends once, done, at the last one', async () => {
    const stream = fakeStream([1, 2, 3]);
    const { seen, ends } = watch(stream);
    const got: unknown[] = [];
    for await (const e of stream) {
      got.push(e);
      assert.deepEqual(seen, got, 'the event was seen before the app got it');
    }
    assert.deepEqual(ends, [{ kind: 'done' }]);
  });

  it('ends aborted when the app breaks out, and closes the source', async () => {
    const stream = fakeStream([1, 2, 3]);
    const { ends } = watch(stream);
    for await (const e of stream) if (e === 1) break;
    assert.deepEqual(ends, [{ kind: 'aborted' }]);
  });

  it('ends aborted when the app aborts the controller, though openai ends the iterator quietly', async () => {
    const stream = fakeStream([1, 2, 3]);
    const { seen, ends } = watch(stream);
    for await (const e of stream) if (e === 1) stream.controller.abort();
    assert.deepEqual(seen, [1]);
    assert.deepEqual(ends, [{ kind: 'aborted' }]);
  });

  it('ends with the error, which the app still gets', async () => {
    const stream = fakeStream([1, 2, 3], 1);
    const { ends } = watch(stream);
    await assert.rejects(async () => {
      for await (const _ of stream);
    }, /connection reset/);
    assert.equal(ends.length, 1);
    assert.equal(ends[0]!.kind, 'error');
  });
});
