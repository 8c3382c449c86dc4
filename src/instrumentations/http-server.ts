import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, ValueType, type Attributes, type Context, type Histogram, type Span } from '@opentelemetry/api';
import { getRPCMetadata, isTracingSuppressed, RPCType, setRPCMetadata, suppressTracing, type RPCMetadata } from '@opentelemetry/core';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorClassName } from '../errors/name';
import { serverRequestAttributes } from './http-attributes';
import { installRequestContext, setRequestContext } from './request-context';

export const HTTP_SERVER_SCOPE = '@innatural/otel-http-server';

type Emit = (this: http.Server, event: string | symbol, ...args: unknown[]) => boolean;

interface Pending {
  readonly span: Span;
  readonly rpc: RPCMetadata & { route?: string };
  readonly method: string;
  /** With a push metric exporter only: recording into a no-op meter would still cost the attributes. */
  readonly duration: { readonly histogram: Histogram; readonly start: number; readonly requestAttributes: Attributes } | undefined;
}

const PENDING = Symbol('innatural.serverSpan');
type Tracked = ServerResponse & { [PENDING]?: Pending };

export interface HttpServerSpansOptions {
  /** Requests that are not the app's traffic (our servers, ignored paths): no span, tracing suppressed below. */
  readonly ignore: (req: IncomingMessage) => boolean;
  /**
   * Makes a context current for the rest of this synchronous run (the context manager's
   * `attach`, AsyncLocalStorage's enterWith). Under async_hooks it also stays on the
   * connection's parser, so most later callbacks of the request find it already current;
   * the request's and response's own events get it either way (see request-context.ts).
   */
  readonly attach: (ctx: Context) => void;
  /** Record `http.server.request.duration` (the semantic-convention histogram), as instrumentation-http does. */
  readonly durationMetric: boolean;
}

/** instrumentation-http's boundaries, so the series match what users had from it. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/** Ends the server span once the response is done or the connection went away; `this` is the response. */
function onClose(this: Tracked): void {
  const pending = this[PENDING];
  if (!pending) return;
  this[PENDING] = undefined;
  const { span, rpc, method, duration } = pending;
  const status = this.statusCode;
  span.setAttribute('http.response.status_code', status);
  if (rpc.route !== undefined) {
    span.setAttribute('http.route', rpc.route);
    span.updateName(`${method} ${rpc.route}`);
  }
  if (status >= 500) {
    // The stable HTTP conventions: a server span's 5xx SHOULD carry error.type, the status as a string.
    span.setAttribute('error.type', String(status));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
  if (duration) {
    const attrs = duration.requestAttributes;
    const metricAttributes: Attributes = {
      'http.request.method': attrs['http.request.method'],
      'url.scheme': attrs['url.scheme'],
      'network.protocol.version': attrs['network.protocol.version'],
      'http.response.status_code': status,
    };
    if (rpc.route !== undefined) metricAttributes['http.route'] = rpc.route;
    if (status >= 500) metricAttributes['error.type'] = String(status);
    duration.histogram.record((performance.now() - duration.start) / 1000, metricAttributes);
  }
}

/**
 * One SERVER span per request the app's http/https servers receive, with the stable HTTP
 * semantic-convention attributes, the W3C/baggage/Sentry parent from the headers, and
 * `http.route` and the `GET /route` name from the router (RPC metadata, as the stock
 * instrumentation reads it). It replaces the incoming half of instrumentation-http, which
 * binds both emitters of every request to the context and parses a URL object per request:
 * that binding and parsing cost more than the span itself.
 */
export class HttpServerSpans extends InstrumentationBase {
  private readonly undo: Array<() => void> = [];
  // Set by the base constructor (through _updateMetricInstruments), before field initialisers run.
  declare private histogram: Histogram;

  constructor(private readonly options: HttpServerSpansOptions) {
    super(HTTP_SERVER_SCOPE, '1.0.0', { enabled: false });
  }

  protected init() {
    return [];
  }

  protected override _updateMetricInstruments(): void {
    this.histogram = this.meter.createHistogram('http.server.request.duration', {
      description: 'Duration of HTTP server requests.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS },
    });
  }

  override enable(): void {
    if (this.undo.length > 0) return;
    this.undo.push(installRequestContext());
    const { ignore, attach, durationMetric } = this.options;
    const tracer = () => this.tracer;
    const histogram = () => this.histogram;
    for (const [proto, scheme] of [
      [http.Server.prototype, 'http'],
      [https.Server.prototype, 'https'],
    ] as unknown as Array<[{ emit: Emit }, 'http' | 'https']>) {
      const original = proto.emit;
      const emit: Emit = function (this: http.Server, event, req, res) {
        if (event !== 'request') return original.apply(this, arguments as unknown as [string]);
        const args = arguments as unknown as [string];
        const request = req as IncomingMessage;
        let ignored: boolean;
        try {
          ignored = ignore(request);
        } catch {
          ignored = false;
        }
        // Attaching is right where Node's parser emits: the connection's context is empty or a
        // previous request's. Emitted from inside someone's context (an in-process test harness),
        // attaching would leak into the caller: the request's context is then scoped to the call.
        const active = context.active();
        const scoped = active !== ROOT_CONTEXT && getRPCMetadata(active) === undefined && !isTracingSuppressed(active);
        if (ignored) {
          const quiet = suppressTracing(ROOT_CONTEXT);
          setRequestContext(request, res as ServerResponse, quiet);
          if (scoped) return context.with(quiet, () => original.apply(this, args));
          attach(quiet);
          return original.apply(this, args);
        }
        const parent = propagation.extract(ROOT_CONTEXT, request.headers);
        const attributes: Attributes = serverRequestAttributes(request, scheme);
        // As the HTTP conventions name spans: an unknown method is `HTTP`, never a new name per fuzzed method.
        const method = attributes['http.request.method'] === '_OTHER' ? 'HTTP' : (attributes['http.request.method'] as string);
        const span = tracer().startSpan(method, { kind: SpanKind.SERVER, attributes }, parent);
        const rpc: Pending['rpc'] = { type: RPCType.HTTP, span };
        (res as Tracked)[PENDING] = {
          span,
          rpc,
          method,
          duration: durationMetric ? { histogram: histogram(), start: performance.now(), requestAttributes: attributes } : undefined,
        };
        (res as ServerResponse).once('close', onClose);
        const requestContext = setRPCMetadata(trace.setSpan(parent, span), rpc);
        setRequestContext(request, res as ServerResponse, requestContext);
        try {
          if (scoped) return context.with(requestContext, () => original.apply(this, args));
          attach(requestContext);
          return original.apply(this, args);
        } catch (err) {
          if (err instanceof Error) span.recordException(err);
          // The handler threw before any 5xx was sent: the conventions' fallback is the exception's type.
          span.setAttribute('error.type', errorClassName(err) ?? '_OTHER');
          span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
          onClose.call(res as Tracked);
          throw err;
        }
      };
      proto.emit = emit;
      this.undo.push(() => {
        if (proto.emit === emit) proto.emit = original;
      });
    }
  }

  override disable(): void {
    while (this.undo.length > 0) this.undo.pop()!();
  }
}
