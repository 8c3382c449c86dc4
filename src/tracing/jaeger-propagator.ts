import {
  isSpanContextValid,
  propagation,
  trace,
  TraceFlags,
  type Context,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';

/**
 * Jaeger's `uber-trace-id` and `uberctx-*` headers. OpenTelemetry's 3.x line no longer ships
 * `@opentelemetry/propagator-jaeger` (its last release peers API < 1.10), and services still
 * talk to Jaeger clients during a migration, so `OTEL_PROPAGATORS=jaeger` keeps working here.
 * The format is Jaeger's: `{trace-id}:{span-id}:{parent-span-id (deprecated, 0)}:{flags}`,
 * ids in hex, a 64-bit trace id left-padded to 128; baggage values URL-encoded.
 */
const TRACE_HEADER = 'uber-trace-id';
const BAGGAGE_PREFIX = 'uberctx-';
const SAMPLED = 0x1;

const first = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

function decode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export class JaegerPropagator implements TextMapPropagator {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const span = trace.getSpanContext(ctx);
    if (span && isSpanContextValid(span)) {
      const flags = (span.traceFlags & TraceFlags.SAMPLED ? SAMPLED : 0).toString(16);
      setter.set(carrier, TRACE_HEADER, `${span.traceId}:${span.spanId}:0:${flags}`);
    }
    const baggage = propagation.getBaggage(ctx);
    if (!baggage) return;
    for (const [key, entry] of baggage.getAllEntries()) {
      setter.set(carrier, `${BAGGAGE_PREFIX}${key}`, encodeURIComponent(entry.value));
    }
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    let result = ctx;
    const header = first(getter.get(carrier, TRACE_HEADER));
    const spanContext = header === undefined ? undefined : parse(decode(header));
    if (spanContext) result = trace.setSpanContext(result, spanContext);

    const entries: Record<string, { value: string }> = {};
    for (const key of getter.keys(carrier)) {
      if (!key.startsWith(BAGGAGE_PREFIX)) continue;
      const value = first(getter.get(carrier, key));
      if (value !== undefined) entries[key.slice(BAGGAGE_PREFIX.length)] = { value: decode(value) };
    }
    if (Object.keys(entries).length === 0) return result;
    const existing = propagation.getBaggage(result);
    let baggage = existing ?? propagation.createBaggage();
    for (const [key, entry] of Object.entries(entries)) baggage = baggage.setEntry(key, entry);
    return propagation.setBaggage(result, baggage);
  }

  fields(): string[] {
    return [TRACE_HEADER];
  }
}

function parse(header: string): ReturnType<typeof trace.getSpanContext> {
  const parts = header.split(':');
  if (parts.length !== 4) return undefined;
  const [traceId, spanId, , flags] = parts as [string, string, string, string];
  const spanContext = {
    traceId: traceId.padStart(32, '0'),
    spanId: spanId.padStart(16, '0'),
    traceFlags: Number.parseInt(flags, 16) & SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE,
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? spanContext : undefined;
}
