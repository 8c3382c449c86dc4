import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { SentryTracePropagator } from './propagator';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const SPAN_ID = 'b7ad6b7169203331';

function ctxWith(flags: TraceFlags, traceId = TRACE_ID, spanId = SPAN_ID) {
  const sc: SpanContext = { traceId, spanId, traceFlags: flags, isRemote: false };
  return trace.setSpanContext(ROOT_CONTEXT, sc);
}

function baggageEntries(header: unknown): Map<string, string> {
  assert.equal(typeof header, 'string');
  const map = new Map<string, string>();
  for (const entry of (header as string).split(',')) {
    const trimmed = entry.trim();
    const eq = trimmed.indexOf('=');
    assert.ok(eq > 0, `malformed entry ${JSON.stringify(entry)} in ${header}`);
    const key = trimmed.slice(0, eq);
    assert.ok(!map.has(key), `duplicate ${key} in ${header}`);
    map.set(key, decodeURIComponent(trimmed.slice(eq + 1)));
  }
  return map;
}

describe('SentryTracePropagator.inject', () => {
  const propagator = new SentryTracePropagator({ environment: 'production', release: 'shop@1.2.3' });

  it('writes sentry-trace and sentry baggage for a sampled span', () => {
    const carrier: Record<string, unknown> = {};
    propagator.inject(ctxWith(TraceFlags.SAMPLED), carrier, defaultTextMapSetter);
    assert.equal(carrier['sentry-trace'], `${TRACE_ID}-${SPAN_ID}-1`);
    const baggage = baggageEntries(carrier['baggage']);
    assert.equal(baggage.get('sentry-trace_id'), TRACE_ID);
    assert.equal(baggage.get('sentry-environment'), 'production');
    assert.equal(baggage.get('sentry-release'), 'shop@1.2.3');
    assert.equal(baggage.get('sentry-sampled'), 'true');
  });

  it('keeps the non-sentry baggage entries and drops stale sentry-* ones', () => {
    const carrier: Record<string, unknown> = {
      baggage: 'userId=alice, sentry-environment=staging,sentry-trace_id=ffffffffffffffffffffffffffffffff,tenant=shop;prop=1,sentry-sampled=false',
    };
    propagator.inject(ctxWith(TraceFlags.SAMPLED), carrier, defaultTextMapSetter);
    const header = carrier['baggage'] as string;
    assert.ok(!header.includes('staging') && !header.includes('ffffffff'), header);
    const baggage = baggageEntries(header);
    assert.equal(baggage.get('userId'), 'alice');
    assert.equal(baggage.get('tenant'), 'shop;prop=1');
    assert.equal(baggage.get('sentry-environment'), 'production');
    assert.equal(baggage.get('sentry-trace_id'), TRACE_ID);
    assert.equal(baggage.get('sentry-sampled'), 'true');
    assert.equal([...baggage.keys()].filter((k) => k.startsWith('sentry-')).length, 4);
  });

  it('marks an unsampled span with -0 and sentry-sampled=false', () => {
    const carrier: Record<string, unknown> = {};
    propagator.inject(ctxWith(TraceFlags.NONE), carrier, defaultTextMapSetter);
    assert.equal(carrier['sentry-trace'], `${TRACE_ID}-${SPAN_ID}-0`);
    assert.equal(baggageEntries(carrier['baggage']).get('sentry-sampled'), 'false');
  });

  it('leaves out empty or missing baggage values', () => {
    const carrier: Record<string, unknown> = {};
    new SentryTracePropagator({ environment: 'production', release: undefined, public_key: '' }).inject(ctxWith(TraceFlags.SAMPLED), carrier, defaultTextMapSetter);
    const baggage = baggageEntries(carrier['baggage']);
    assert.deepEqual([...baggage.keys()].sort(), ['sentry-environment', 'sentry-sampled', 'sentry-trace_id']);
  });

  it('injects nothing without a span, or with an invalid one', () => {
    for (const ctx of [ROOT_CONTEXT, ctxWith(TraceFlags.SAMPLED, '0'.repeat(32), '0'.repeat(16))]) {
      const carrier: Record<string, unknown> = { baggage: 'userId=alice' };
      propagator.inject(ctx, carrier, defaultTextMapSetter);
      assert.deepEqual(carrier, { baggage: 'userId=alice' });
    }
  });
});

describe('SentryTracePropagator.extract', () => {
  const propagator = new SentryTracePropagator({});

  it('reads a sampled sentry-trace header as a remote parent', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { 'sentry-trace': `${TRACE_ID}-${SPAN_ID}-1` }, defaultTextMapGetter);
    assert.deepEqual(trace.getSpanContext(ctx), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it('reads an unsampled one as not sampled', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { 'sentry-trace': `${TRACE_ID}-${SPAN_ID}-0` }, defaultTextMapGetter);
    assert.equal(trace.getSpanContext(ctx)?.traceFlags, TraceFlags.NONE);
    assert.equal(trace.getSpanContext(ctx)?.traceId, TRACE_ID);
  });

  it('accepts a header without the sampled flag, surrounding spaces, and the first of repeated headers', () => {
    for (const header of [`${TRACE_ID}-${SPAN_ID}`, `  ${TRACE_ID}-${SPAN_ID}-1 `, [`${TRACE_ID}-${SPAN_ID}-1`, `${'1'.repeat(32)}-${'2'.repeat(16)}-1`]]) {
      const sc = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, { 'sentry-trace': header }, defaultTextMapGetter));
      assert.equal(sc?.traceId, TRACE_ID, JSON.stringify(header));
      assert.equal(sc?.spanId, SPAN_ID);
      assert.equal(sc?.isRemote, true);
    }
  });

  it('lets a valid traceparent-derived parent win', () => {
    const w3c = new W3CTraceContextPropagator();
    const otherTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const otherSpan = '00f067aa0ba902b7';
    const carrier = { traceparent: `00-${otherTrace}-${otherSpan}-01`, 'sentry-trace': `${TRACE_ID}-${SPAN_ID}-1` };
    const fromW3c = w3c.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
    const ctx = propagator.extract(fromW3c, carrier, defaultTextMapGetter);
    assert.equal(ctx, fromW3c);
    assert.equal(trace.getSpanContext(ctx)?.traceId, otherTrace);
    assert.equal(trace.getSpanContext(ctx)?.spanId, otherSpan);
  });

  it('ignores malformed headers', () => {
    const bad = [
      'garbage',
      '',
      `${TRACE_ID}`,
      `${TRACE_ID}-${SPAN_ID}-2`,
      `${TRACE_ID.toUpperCase()}-${SPAN_ID}-1`,
      `${TRACE_ID}0-${SPAN_ID}-1`,
      `${TRACE_ID}-${SPAN_ID}0-1`,
      `${TRACE_ID}-${SPAN_ID}-1-extra`,
      `${TRACE_ID}-zzzzzzzzzzzzzzzz-1`,
    ];
    for (const header of bad) {
      const ctx = propagator.extract(ROOT_CONTEXT, { 'sentry-trace': header }, defaultTextMapGetter);
      assert.equal(ctx, ROOT_CONTEXT, JSON.stringify(header));
    }
    assert.equal(propagator.extract(ROOT_CONTEXT, {}, defaultTextMapGetter), ROOT_CONTEXT);
    assert.equal(propagator.extract(ROOT_CONTEXT, { 'sentry-trace': [] }, defaultTextMapGetter), ROOT_CONTEXT);
  });

  it('never yields a valid parent from an all-zero header', () => {
    const ctx = propagator.extract(ROOT_CONTEXT, { 'sentry-trace': `${'0'.repeat(32)}-${'0'.repeat(16)}-1` }, defaultTextMapGetter);
    const sc = trace.getSpanContext(ctx);
    assert.ok(!sc || !isSpanContextValid(sc));
  });

  it('round-trips what inject wrote', () => {
    const carrier: Record<string, unknown> = {};
    new SentryTracePropagator({}).inject(ctxWith(TraceFlags.SAMPLED), carrier, defaultTextMapSetter);
    const sc = trace.getSpanContext(propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
    assert.equal(sc?.traceId, TRACE_ID);
    assert.equal(sc?.spanId, SPAN_ID);
    assert.equal(sc?.traceFlags, TraceFlags.SAMPLED);
  });
});

describe('SentryTracePropagator.fields', () => {
  it('lists sentry-trace and baggage', () => {
    assert.deepEqual(new SentryTracePropagator({}).fields(), ['sentry-trace', 'baggage']);
  });
});
