import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { CompositePropagator, isTracingSuppressed, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import type { PropagatorName } from '../config/resolve';

function create(name: Exclude<PropagatorName, 'none'>): TextMapPropagator {
  switch (name) {
    case 'tracecontext':
      return new W3CTraceContextPropagator();
    case 'baggage':
      return new W3CBaggagePropagator();
    case 'b3':
    case 'b3multi': {
      const { B3Propagator, B3InjectEncoding } = require('@opentelemetry/propagator-b3') as typeof import('@opentelemetry/propagator-b3');
      return new B3Propagator({
        injectEncoding: name === 'b3' ? B3InjectEncoding.SINGLE_HEADER : B3InjectEncoding.MULTI_HEADER,
      });
    }
    case 'jaeger': {
      const { JaegerPropagator } = require('./jaeger-propagator') as typeof import('./jaeger-propagator');
      return new JaegerPropagator();
    }
  }
}

/**
 * A suppressed context is our own traffic (exports, Sentry's transport): nothing is
 * injected into it, whichever propagators are configured. Each stock one checks on its
 * own, except Jaeger's baggage (`uberctx-*`), which it writes even then.
 */
class UnlessSuppressed implements TextMapPropagator {
  constructor(private readonly inner: TextMapPropagator) {}

  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    if (!isTracingSuppressed(ctx)) this.inner.inject(ctx, carrier, setter);
  }

  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    return this.inner.extract(ctx, carrier, getter);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

export function createPropagator(names: readonly Exclude<PropagatorName, 'none'>[], extra: readonly TextMapPropagator[] = []): TextMapPropagator {
  return new UnlessSuppressed(new CompositePropagator({ propagators: [...names.map(create), ...extra] }));
}
