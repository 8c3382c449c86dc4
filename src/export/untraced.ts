import { context, ROOT_CONTEXT, type Context } from '@opentelemetry/api';

let untracedContext: Context | undefined;

/**
 * The root context with tracing suppressed: no app span to parent a client span, no app
 * baggage to propagate, and the stock http, undici and gRPC instrumentations and our
 * propagators all skip a suppressed context. Core is required on first use, not at start:
 * a service that never exports never loads it for this.
 */
function untracedRoot(): Context {
  if (!untracedContext) {
    const { suppressTracing } = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
    untracedContext = suppressTracing(ROOT_CONTEXT);
  }
  return untracedContext;
}

/**
 * Runs `fn` outside the app's trace. Every timer, socket and promise it starts keeps that
 * context, so retries and responses of our own requests stay untraced too.
 */
export function untraced<T>(fn: () => T): T {
  return context.with(untracedRoot(), fn);
}

interface Exporting {
  export(items: never, done: never): void;
}

/**
 * Wraps the exporter's `export` in place. The SDK's batch processors already suppress
 * tracing around their exports, but in the context that was active when they ran: an
 * app request's, with its baggage (which the Jaeger propagator injects even when
 * suppressed). Direct callers (doctor, a forced flush) suppress nothing at all.
 */
export function untracedExports<T>(exporter: T): T {
  const target = exporter as unknown as Exporting;
  const original = target.export.bind(target) as (items: unknown, done: unknown) => void;
  target.export = ((items: unknown, done: unknown) => untraced(() => original(items, done))) as Exporting['export'];
  return exporter;
}
