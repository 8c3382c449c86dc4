import type { Context } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import { Activity } from '../lifecycle/before-exit';
import { RedactingSpanProcessor } from '../redaction/spans';
import { SentryTracePropagator } from '../sentry/propagator';
import type { Errors } from './errors';
import type { Globals } from './globals';
import type { Metrics } from './metrics';
import { part, type Part } from './part';

export interface Tracing extends Part {
  /** Spans are exported (OTEL_TRACES_EXPORTER, or Sentry's traces). */
  readonly enabled: boolean;
  /** Ends when no span ended since it was last cleared: the crash and signal flushes repeat while it is dirty. */
  readonly activity: Activity;
  /** Makes a request's context current for the rest of its connection; undefined without tracing. */
  readonly attachContext: ((ctx: Context) => void) | undefined;
  /** With tracing, at start; in metrics-only mode, when a client instrumentation that feeds metrics loads. */
  ensureProvider(): void;
}

/**
 * Context only matters when spans are exported; without, async hooks would cost for nothing.
 * Tracing modules are required here, not imported: a metrics-only service never loads them.
 */
export function startTracing(globals: Globals, { pipeline }: Metrics, errors: Errors): Tracing {
  const { config, logger, api, diag, resource, redactor } = globals;
  return part(logger, (undo) => {
    const sentryOtlp = config.sentry?.traces ? errors.sentry?.otlp : undefined;
    const enabled = config.traces.exporters.length > 0 || sentryOtlp !== undefined;
    const activity = new Activity();

    let attachContext: ((ctx: Context) => void) | undefined;
    if (enabled) {
      const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
      const { createPropagator } = require('../tracing/propagators') as typeof import('../tracing/propagators');
      const manager = new AsyncLocalStorageContextManager().enable();
      api.context.setGlobalContextManager(manager);
      // The server spans' request context stays current for the whole connection (see HttpServerSpans).
      attachContext = (ctx) => void manager.attach(ctx);
      undo.push(() => api.context.disable());
      const sentryBaggage = config.sentry
        ? [new SentryTracePropagator({ environment: config.sentry.environment ?? config.environment, release: config.sentry.release })]
        : [];
      api.propagation.setGlobalPropagator(createPropagator(config.propagators, sentryBaggage));
      undo.push(() => api.propagation.disable());
    }

    let provider: TracerProvider | undefined;
    const ensureProvider = () => {
      if (provider) return;
      diag.captureSdkErrors();
      const { createTracerProvider } = require('../tracing/provider') as typeof import('../tracing/provider');
      const { MetricsSpanProcessor } = require('../metrics/spans') as typeof import('../metrics/spans');
      // Required with the rest of the provider: it pulls in the OTLP transport, which metrics-only never needs.
      const toSentry = sentryOtlp && (require('../export/sentry-otlp') as typeof import('../export/sentry-otlp')).sentrySpanExporter(sentryOtlp);
      if (sentryOtlp && !toSentry) logger.warn('Sentry span export is unavailable in this SDK release; errors still go to Sentry, spans only to OTEL_TRACES_EXPORTER');
      provider = createTracerProvider(config, resource(), {
        processors: [new RedactingSpanProcessor(redactor('spans')), activity],
        exporters: toSentry ? [toSentry] : [],
        metrics: pipeline ? new MetricsSpanProcessor(pipeline.catalog, pipeline.ai) : undefined,
      });
      if (!provider) return;
      const registered = provider;
      api.trace.setGlobalTracerProvider(registered);
      undo.push(
        () => registered.shutdown(),
        () => api.trace.disable(),
      );
    };
    if (enabled) ensureProvider();
    return { enabled, activity, attachContext, ensureProvider, flush: () => provider?.forceFlush() ?? Promise.resolve() };
  });
}
