import {
  isSpanContextValid,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

const SENTRY_TRACE = 'sentry-trace';
const BAGGAGE = 'baggage';
const SENTRY_TRACE_RE = /^\s*([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?\s*$/;

/**
 * `sentry-trace` and Sentry's `sentry-*` baggage entries beside `traceparent`, so services
 * running Sentry's own SDK join the same trace. Extraction only fills in when no other
 * propagator found a parent. Runs after the W3C baggage propagator and appends to its header.
 */
export class SentryTracePropagator implements TextMapPropagator {
  constructor(private readonly baggage: Readonly<Record<string, string | undefined>>) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const spanContext = trace.getSpanContext(ctx);
    if (!spanContext || !isSpanContextValid(spanContext)) return;
    const sampled = (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
    setter.set(carrier, SENTRY_TRACE, `${spanContext.traceId}-${spanContext.spanId}-${sampled ? 1 : 0}`);
    const entries = Object.entries({ ...this.baggage, trace_id: spanContext.traceId, sampled: String(sampled) })
      .filter(([, v]) => v !== undefined && v !== '')
      .map(([k, v]) => `sentry-${k}=${encodeURIComponent(v!)}`);
    const existing = (carrier as Record<string, unknown>)[BAGGAGE];
    const kept = typeof existing === 'string' ? existing.split(',').filter((e) => e.trim() !== '' && !e.trim().startsWith('sentry-')) : [];
    setter.set(carrier, BAGGAGE, [...kept, ...entries].join(','));
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const current = trace.getSpanContext(ctx);
    if (current && isSpanContextValid(current)) return ctx;
    const raw = getter.get(carrier, SENTRY_TRACE);
    const header = Array.isArray(raw) ? raw[0] : raw;
    const match = typeof header === 'string' ? SENTRY_TRACE_RE.exec(header) : null;
    if (!match) return ctx;
    return trace.setSpanContext(ctx, {
      traceId: match[1]!,
      spanId: match[2]!,
      traceFlags: match[3] === '0' ? TraceFlags.NONE : TraceFlags.SAMPLED,
      isRemote: true,
    });
  }

  fields(): string[] {
    return [SENTRY_TRACE, BAGGAGE];
  }
}
