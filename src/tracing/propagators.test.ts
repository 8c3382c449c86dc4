import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTextMapSetter, propagation, ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { SentryTracePropagator } from '../sentry/propagator';
import { createPropagator } from './propagators';

const ctx = propagation.setBaggage(
  trace.setSpanContext(ROOT_CONTEXT, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }),
  propagation.createBaggage({ tenant: { value: 'acme' } }),
);

function injected(context = ctx): Record<string, string> {
  const carrier: Record<string, string> = {};
  createPropagator(['tracecontext', 'baggage', 'b3multi', 'jaeger'], [new SentryTracePropagator({ environment: 'prod' })]).inject(
    context,
    carrier,
    defaultTextMapSetter,
  );
  return carrier;
}

describe('createPropagator', () => {
  it('injects every configured propagator’s headers', () => {
    assert.deepEqual(Object.keys(injected()).sort(), [
      'baggage',
      'sentry-trace',
      'traceparent',
      'uber-trace-id',
      'uberctx-tenant',
      'x-b3-sampled',
      'x-b3-spanid',
      'x-b3-traceid',
    ]);
  });

  it('injects nothing into a suppressed context: Jaeger would still write the baggage', () => {
    assert.deepEqual(injected(suppressTracing(ctx)), {});
  });
});

describe('the Jaeger propagator (ours: upstream dropped it in the 3.x line)', () => {
  const jaeger = () => createPropagator(['jaeger']);
  const getter = {
    keys: (c: Record<string, string>) => Object.keys(c),
    get: (c: Record<string, string>, k: string) => c[k],
  };

  it('writes uber-trace-id as trace:span:0:flags, and baggage as url-encoded uberctx- headers', () => {
    const carrier: Record<string, string> = {};
    const withBaggage = propagation.setBaggage(ctx, propagation.createBaggage({ tenant: { value: 'acme corp' } }));
    jaeger().inject(withBaggage, carrier, defaultTextMapSetter);
    assert.deepEqual(carrier, { 'uber-trace-id': '0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1', 'uberctx-tenant': 'acme%20corp' });
  });

  it('reads a 64-bit, url-encoded trace id and baggage back into a remote parent', () => {
    const carrier = { 'uber-trace-id': '8448eb211c80319c%3Ab7ad6b7169203331%3A0%3A1', 'uberctx-user': 'a%20b' };
    const out = jaeger().extract(ROOT_CONTEXT, carrier, getter);
    assert.deepEqual(trace.getSpanContext(out), {
      traceId: '00000000000000008448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
    assert.equal(propagation.getBaggage(out)?.getEntry('user')?.value, 'a b');
  });

  it('ignores a malformed or all-zero header', () => {
    for (const header of ['abc', '0:0:0:1', 'zz:yy:0:1']) {
      assert.equal(trace.getSpanContext(jaeger().extract(ROOT_CONTEXT, { 'uber-trace-id': header }, getter)), undefined, header);
    }
  });
});
