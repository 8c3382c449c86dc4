import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { isTracingSuppressed } from '@opentelemetry/core';
import { untraced, untracedExports } from './untraced';

/** An app request's context: a span and baggage. */
const appContext = propagation.setBaggage(
  trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }),
  propagation.createBaggage({ tenant: { value: 'acme' } }),
);

describe('untraced', () => {
  const manager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(manager);

  it('runs with tracing suppressed, without the app’s span or baggage, also in later callbacks', async () => {
    const seen: Context[] = [];
    await context.with(appContext, () =>
      untraced(async () => {
        seen.push(context.active());
        await new Promise((r) => setTimeout(r, 1));
        seen.push(context.active());
      }),
    );
    for (const active of seen) {
      assert.equal(isTracingSuppressed(active), true);
      assert.equal(trace.getSpanContext(active), undefined);
      assert.equal(propagation.getBaggage(active), undefined);
    }
  });

  it('untracedExports runs each export so, and passes items and callback through', () => {
    const calls: Array<{ items: unknown; suppressed: boolean; baggage: unknown }> = [];
    const exporter = untracedExports({
      export(items: unknown, done: (r: { code: number }) => void) {
        calls.push({ items, suppressed: isTracingSuppressed(context.active()), baggage: propagation.getBaggage(context.active()) });
        done({ code: 0 });
      },
    });
    let result: unknown;
    context.with(appContext, () => exporter.export(['span'], (r) => (result = r)));
    assert.deepEqual(calls, [{ items: ['span'], suppressed: true, baggage: undefined }]);
    assert.deepEqual(result, { code: 0 });
  });
});
