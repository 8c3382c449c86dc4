/**
 * Our own traffic is invisible: the OTLP exporters (every signal, every protocol), Sentry's
 * OTLP span exporter and the Sentry transport are never traced, carry no propagation
 * header, and each backend gets only its own credentials; the app's own outgoing calls are
 * still traced and still propagate.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startApp, type RunningApp } from '../support/app';
import { startOtlpGrpcSink } from '../support/otlp-grpc-sink';
import { startOtlpSink, type SinkLog, type SinkMetric, type SinkSpan } from '../support/otlp-sink';
import { SENTRY_PUBLIC_KEY, startSentrySink, type SentrySink } from '../support/sentry-sink';

const OTLP_BEARER = 'otlp-bearer-canary-5b1f';
const BAGGAGE_CANARY = 'baggage-canary-77d2';
/** Every header a propagator we ship can write (W3C, Sentry, B3 single and multi, Jaeger). */
const PROPAGATION = /^(traceparent|tracestate|baggage|sentry-trace|b3|x-b3-.*|uber-trace-id|uberctx-.*)$/;
const INCOMING_PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

interface Downstream {
  readonly url: string;
  readonly port: number;
  readonly received: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** The third service the app calls: records the headers of each request. */
async function startDownstream(): Promise<Downstream> {
  const received: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    received.push(req.headers);
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What one OTLP backend received, whatever the protocol. */
interface OtlpReceived {
  readonly port: number;
  readonly spans: SinkSpan[];
  readonly metrics: SinkMetric[];
  readonly logs: SinkLog[];
  /** Headers (or gRPC metadata) of every export, as name → values. */
  headers(): Array<Record<string, string[]>>;
  /** Every byte of every export body, to search for a credential. */
  bytes(): string;
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

const asLists = (headers: Record<string, unknown>): Record<string, string[]> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), (Array.isArray(v) ? v : [v]).map(String)]));

async function otlpBackend(protocol: 'http/protobuf' | 'http/json' | 'grpc'): Promise<OtlpReceived & { url: string }> {
  if (protocol === 'grpc') {
    const sink = await startOtlpGrpcSink();
    return {
      url: sink.url,
      port: Number(new URL(sink.url).port),
      spans: sink.spans,
      metrics: sink.metrics,
      logs: sink.logs,
      headers: () => sink.metadata.map((m) => asLists(m.getMap())),
      // The decoded telemetry is all there is: the gRPC sink keeps no raw bodies.
      bytes: () => JSON.stringify([sink.spans, sink.metrics, sink.logs], (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      waitFor: (probe, timeoutMs) => sink.waitFor(probe, timeoutMs),
      close: () => sink.close(),
    };
  }
  const sink = await startOtlpSink();
  return {
    url: sink.url,
    port: sink.port,
    spans: sink.spans,
    metrics: sink.metrics,
    logs: sink.logs,
    headers: () => sink.requests.map((r) => asLists(r.headers)),
    bytes: () => sink.requests.map((r) => r.bytes.toString('latin1')).join('\n'),
    waitFor: (probe, timeoutMs) => sink.waitFor(probe, timeoutMs),
    close: () => sink.close(),
  };
}

/** A span that describes a request to one of the ports: what must never be exported. */
function callsTo(span: SinkSpan, ports: readonly number[]): boolean {
  const { attributes: a } = span;
  const full = String(a['url.full'] ?? a['http.url'] ?? '');
  return ports.some((port) => Number(a['server.port'] ?? a['net.peer.port']) === port || full.includes(`:${port}/`));
}

const SCENARIOS = [
  { protocol: 'http/protobuf', propagators: undefined },
  // Every propagator we ship: B3 and Jaeger write headers of their own (Jaeger's baggage even under suppression).
  { protocol: 'http/json', propagators: 'tracecontext,baggage,b3multi,jaeger' },
  { protocol: 'grpc', propagators: undefined },
] as const;

for (const { protocol, propagators } of SCENARIOS) {
  describe(`our own traffic over ${protocol} and to Sentry`, () => {
    let otlp: OtlpReceived & { url: string };
    let sentry: SentrySink;
    let downstream: Downstream;
    let app: RunningApp;

    before(async () => {
      [otlp, sentry, downstream] = await Promise.all([otlpBackend(protocol), startSentrySink(), startDownstream()]);
      app = await startApp({
        fixture: 'own-traffic-app.js',
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_BSP_SCHEDULE_DELAY: '50',
          OTEL_BLRP_SCHEDULE_DELAY: '50',
          INNATURAL_HEALTH_PORT: '0',
          INNATURAL_HEALTH_HOST: '127.0.0.1',
          OTEL_SERVICE_NAME: 'own-traffic',
          OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
          OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${OTLP_BEARER}`,
          OTEL_METRICS_EXPORTER: 'otlp',
          OTEL_METRIC_EXPORT_INTERVAL: '300',
          SENTRY_DSN: sentry.dsn,
          ...(propagators ? { OTEL_PROPAGATORS: propagators } : {}),
        },
      });

      // An error inside a request whose context carries baggage: the Sentry transport sends from there.
      const boom = await app.get('/api/boom', { headers: { traceparent: INCOMING_PARENT, baggage: `tenant=${BAGGAGE_CANARY}` } });
      assert.equal(boom.status, 500);
      for (const path of [`/api/call?to=${downstream.url}/via-http`, `/api/fetch?to=${downstream.url}/via-fetch`, '/api/log']) {
        const res = await app.get(path, { headers: { baggage: `tenant=${BAGGAGE_CANARY}` } });
        assert.equal(res.status, 200, `${path}: ${await res.text()}`);
      }
      await sentry.waitFor(() => sentry.events.find((e) => e.exception?.values?.some((v) => v.value === 'own traffic fixture error')));
      // Spans are exported in the order they end: once a later request's span arrives everywhere,
      // a span of the envelope POST (which ended before) would have arrived too.
      await new Promise((r) => setTimeout(r, 300));
      await (await app.get('/api/ok')).arrayBuffer();
      const okSpan = (spans: SinkSpan[]) => spans.find((s) => s.kind === 2 && s.attributes['http.route'] === '/api/ok');
      await otlp.waitFor(() => okSpan(otlp.spans));
      await sentry.waitFor(() => okSpan(sentry.spans));
      await otlp.waitFor(() => otlp.metrics.length > 0 && otlp.logs.some((l) => String(l.body).includes('own traffic fixture log line')));
    });

    after(async () => {
      app?.kill();
      await Promise.all([otlp?.close(), sentry?.close(), downstream?.close()]);
    });

    it('no exported span describes a request to the OTLP endpoint or to Sentry', () => {
      const own = [otlp.port, sentry.port];
      const everywhere = [...otlp.spans, ...sentry.spans];
      assert.ok(everywhere.length > 0);
      const leaked = everywhere.filter((s) => callsTo(s, own) || /sentry_key|\/envelope\/|\/v1\/(traces|metrics|logs)/.test(JSON.stringify(s.attributes)));
      assert.deepEqual(leaked.map((s) => `${s.name} ${JSON.stringify(s.attributes)}`), []);
    });

    it('Sentry receives no propagation header and never the OTLP credentials', () => {
      assert.ok(sentry.requests.some((r) => r.endpoint === 'envelope'), 'the transport sent envelopes');
      assert.ok(sentry.requests.some((r) => r.endpoint === 'otlp'), 'Sentry’s OTLP exporter sent spans');
      for (const request of sentry.requests) {
        const names = Object.keys(request.headers).filter((h) => PROPAGATION.test(h));
        assert.deepEqual(names, [], `${request.endpoint} ${request.url}`);
        const values = JSON.stringify(request.headers);
        assert.ok(!values.includes(OTLP_BEARER), `${request.endpoint} request carried the OTLP bearer`);
        assert.ok(!values.includes(BAGGAGE_CANARY), `${request.endpoint} request carried the app’s baggage`);
      }
      assert.ok(!sentry.allBytes().includes(OTLP_BEARER));
      // Its own credentials still arrive.
      assert.ok(sentry.otlpHeaders.length > 0 && sentry.otlpHeaders.every((h) => String(h['x-sentry-auth']).includes(`sentry_key=${SENTRY_PUBLIC_KEY}`)));
      assert.ok(sentry.otlpHeaders.every((h) => h.authorization === undefined), 'no Authorization header on Sentry’s OTLP endpoint');
    });

    it('the OTLP backend receives its own bearer, no propagation header and never Sentry’s key', () => {
      const all = otlp.headers();
      assert.ok(all.length >= 3, 'traces, metrics and logs were exported');
      for (const headers of all) {
        assert.deepEqual(headers.authorization, [`Bearer ${OTLP_BEARER}`]);
        assert.deepEqual(Object.keys(headers).filter((h) => PROPAGATION.test(h) || h === 'x-sentry-auth'), []);
        assert.ok(!JSON.stringify(headers).includes(SENTRY_PUBLIC_KEY), 'an export carried Sentry’s key');
      }
      assert.ok(!otlp.bytes().includes(SENTRY_PUBLIC_KEY), 'Sentry’s key inside an export');
    });

    it('the app’s own outgoing calls are still traced and still propagate', () => {
      for (const [path, via] of [['/via-http', '/api/call'], ['/via-fetch', '/api/fetch']] as const) {
        const server = otlp.spans.find((s) => s.kind === 2 && s.attributes['http.route'] === via);
        assert.ok(server, `the server span of ${via}`);
        const client = otlp.spans.find((s) => s.kind === 3 && s.traceId === server.traceId && Number(s.attributes['server.port']) === downstream.port);
        assert.ok(client, `a client span for ${path}`);
        assert.ok(String(client.attributes['url.full']).endsWith(path));
        const headers = downstream.received.find((h) => String(h.traceparent).includes(server.traceId));
        assert.ok(headers, `${path} received the request’s traceparent: ${JSON.stringify(downstream.received)}`);
        assert.match(String(headers.baggage), new RegExp(`tenant=${BAGGAGE_CANARY}`), 'the app’s baggage still propagates to its own calls');
      }
    });
  });
}
