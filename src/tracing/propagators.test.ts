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
