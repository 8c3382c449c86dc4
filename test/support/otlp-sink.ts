/**
 * A local OTLP/HTTP receiver for integration tests: it accepts what real
 * exporters send (protobuf or JSON, optionally gzipped), normalises it into
 * plain objects tests can assert on, and can misbehave on purpose (refuse
 * connections, hang, fail) to test how the SDK copes with a broken collector.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { waitFor } from './wait';
import { decodeMessage, OTLP_SCHEMAS, type OtlpMessageName } from './protobuf';

export type SinkEncoding = 'protobuf' | 'json';
export type SinkMode = 'ok' | 'refuse' | 'blackhole' | 'error500';
export type SinkAttributes = Record<string, unknown>;

export interface SinkScope {
  name: string;
  version: string;
}

interface SinkTelemetry {
  scope: SinkScope;
  resource: SinkAttributes;
  encoding: SinkEncoding;
}

export interface SinkSpan extends SinkTelemetry {
  /** Lowercase hex, as in the W3C traceparent header. */
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP numbering: 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer (the API's SpanKind + 1). */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: SinkAttributes;
  events: { name: string; timeUnixNano: bigint; attributes: SinkAttributes }[];
  links: { traceId: string; spanId: string; attributes: SinkAttributes }[];
  /** code: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  flags: number;
}

export interface SinkMetricPoint {
  attributes: SinkAttributes;
  startTimeUnixNano: bigint;
  timeUnixNano: bigint;
  /** Gauge and sum points: as_double or as_int. */
  value?: number;
  /** Histogram points. */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  bucketCounts?: number[];
  explicitBounds?: number[];
  /** Always there, [] when the point has none. */
  exemplars: SinkExemplar[];
}

export interface SinkExemplar {
  /** Lowercase hex. */
  traceId: string;
  spanId: string;
  /** as_double or as_int. */
  value: number | undefined;
  timeUnixNano: bigint;
  filteredAttributes: SinkAttributes;
}

export interface SinkMetric extends SinkTelemetry {
  name: string;
  description: string;
  unit: string;
  /** Exponential histograms and summaries are recognised but their points are not decoded. */
  type: 'gauge' | 'sum' | 'histogram' | 'exponentialHistogram' | 'summary';
  /** Sums only. */
  isMonotonic?: boolean;
  /** Sums and histograms: 1 delta, 2 cumulative. */
  temporality?: number;
  points: SinkMetricPoint[];
}

export interface SinkLog extends SinkTelemetry {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  body: unknown;
  severityNumber: number;
  severityText: string;
  eventName: string;
  /** '' when the record is not tied to a span. */
  traceId: string;
  spanId: string;
  flags: number;
  attributes: SinkAttributes;
}

export interface SinkRequest {
  path: string;
  contentType: string;
  contentEncoding: string;
  headers: IncomingHttpHeaders;
  /** The body after undoing Content-Encoding, so a test can search it for a string that must (not) have been sent. */
  bytes: Buffer;
  encoding: SinkEncoding;
}

/** A request the sink did not accept; status 0 means it was swallowed in 'blackhole' mode. */
export interface SinkRejection {
  path: string;
  status: number;
  reason: string;
}

export interface OtlpSink {
  readonly url: string;
  readonly port: number;
  readonly spans: SinkSpan[];
  readonly metrics: SinkMetric[];
  readonly logs: SinkLog[];
  /** Accepted requests only; a rejected request contributes nothing to spans, metrics or logs either. */
  readonly requests: SinkRequest[];
  readonly rejections: SinkRejection[];
  /** Resolves with the probe's first truthy result, polling every 25 ms. */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /**
   * 'refuse' stops listening and drops open connections (so keep-alive
   * sockets cannot sneak requests through); leaving it listens again on the
   * same port. The promise settles once the change has taken effect.
   */
  setMode(mode: SinkMode): Promise<void>;
  clear(): void;
  close(): Promise<void>;
}

export interface OtlpSinkOptions {
  /** Defaults to 0, an ephemeral port. */
  port?: number;
}

const HOST = '127.0.0.1';

const SIGNALS = {
  '/v1/traces': 'ExportTraceServiceRequest',
  '/v1/metrics': 'ExportMetricsServiceRequest',
  '/v1/logs': 'ExportLogsServiceRequest',
} as const satisfies Record<string, OtlpMessageName>;

type SignalPath = keyof typeof SIGNALS;

const isSignalPath = (path: string): path is SignalPath => Object.hasOwn(SIGNALS, path);

const gunzipAsync = promisify(gunzip);

/** Thrown for anything wrong with a request; it becomes the 4xx answer. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startOtlpSink(opts: OtlpSinkOptions = {}): Promise<OtlpSink> {
  const spans: SinkSpan[] = [];
  const metrics: SinkMetric[] = [];
  const logs: SinkLog[] = [];
  const requests: SinkRequest[] = [];
  const rejections: SinkRejection[] = [];
  const sockets = new Set<Socket>();
  let mode: SinkMode = 'ok';
  let transition = Promise.resolve();
  let closed = false;

  const reject = (res: ServerResponse, path: string, status: number, reason: string): void => {
    rejections.push({ path, status, reason });
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' }).end(reason);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://sink').pathname;
    if (mode === 'blackhole') {
      rejections.push({ path, status: 0, reason: 'blackhole' });
      req.resume();
      return;
    }
    if (mode === 'error500') {
      req.resume();
      return reject(res, path, 500, 'sink is in error500 mode');
    }
    if (!isSignalPath(path)) {
      req.resume();
      return reject(res, path, 404, `no OTLP signal at ${path}`);
    }
    if (req.method !== 'POST') {
      req.resume();
      res.setHeader('Allow', 'POST');
      return reject(res, path, 405, `${req.method} is not allowed`);
    }

    const contentType = req.headers['content-type'] ?? '';
    const contentEncoding = req.headers['content-encoding'] ?? '';
    const wire = await readBody(req);
    let accepted: Batch;
    let bytes: Buffer;
    let encoding: SinkEncoding;
    try {
      encoding = encodingOf(contentType);
      bytes = await decompress(wire, contentEncoding);
      accepted = parseRequest(SIGNALS[path], encoding, bytes);
    } catch (err) {
      const status = err instanceof RequestError ? err.status : 400;
      return reject(res, path, status, err instanceof Error ? err.message : String(err));
    }

    spans.push(...accepted.spans);
    metrics.push(...accepted.metrics);
    logs.push(...accepted.logs);
    requests.push({ path, contentType, contentEncoding, headers: req.headers, bytes, encoding });
    if (encoding === 'json') {
      // '{}' is the empty Export*ServiceResponse in OTLP/JSON; a zero-length body is not valid JSON.
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    } else {
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': '0' }).end();
    }
  };

  const server = createServer((req, res) => {
    // Only a client that goes away mid-request gets here; there is nobody left to answer.
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, rejectListen) => {
      server.once('error', rejectListen);
      server.listen(port, HOST, () => {
        server.off('error', rejectListen);
        resolve();
      });
    });

  const stopListening = async (): Promise<void> => {
    const stopped = server.listening ? new Promise<void>((resolve) => server.close(() => resolve())) : undefined;
    for (const socket of sockets) socket.destroy();
    await stopped;
  };

  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}`;

  const summary = (): string => {
    const names = (items: { name: string }[]): string => JSON.stringify([...new Set(items.map((i) => i.name))].slice(0, 30));
    const lastRejection = rejections.at(-1);
    return (
      `spans: ${names(spans)}, metrics: ${names(metrics)}, logs: ${logs.length}, requests: ${requests.length}` +
      (lastRejection ? `, rejections: ${rejections.length} (last: ${lastRejection.status} ${lastRejection.path} ${lastRejection.reason})` : '')
    );
  };

  return {
    url,
    port,
    spans,
    metrics,
    logs,
    requests,
    rejections,

    waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
      return waitFor(probe, timeoutMs, 'OTLP sink', () => `received ${summary()}`);
    },

    setMode(next: SinkMode): Promise<void> {
      if (closed) return Promise.reject(new Error('OTLP sink is closed'));
      mode = next;
      // Chained so that quick successive calls cannot interleave a close and a listen;
      // a failed transition (say, the port was taken meanwhile) must not wedge later ones.
      transition = transition.catch(() => undefined).then(() => {
        if (next === 'refuse') return stopListening();
        return server.listening ? undefined : listen(port);
      });
      return transition;
    },

    clear(): void {
      spans.length = 0;
      metrics.length = 0;
      logs.length = 0;
      requests.length = 0;
      rejections.length = 0;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await transition.catch(() => undefined);
      await stopListening();
    },
  };
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function encodingOf(contentType: string): SinkEncoding {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  throw new RequestError(415, `unsupported Content-Type ${JSON.stringify(contentType)}`);
}

async function decompress(body: Buffer, contentEncoding: string): Promise<Buffer> {
  const coding = contentEncoding.trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  if (coding === 'gzip') return gunzipAsync(body);
  throw new RequestError(415, `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}`);
}

export interface Batch {
  spans: SinkSpan[];
  metrics: SinkMetric[];
  logs: SinkLog[];
}

/**
 * Everything is normalised before anything is recorded, so a request that
 * fails halfway leaves no partial data behind.
 */
export function parseRequest(message: OtlpMessageName, encoding: SinkEncoding, bytes: Buffer): Batch {
  const request: unknown =
    encoding === 'json' ? JSON.parse(bytes.toString('utf8')) : decodeMessage(OTLP_SCHEMAS, message, bytes);
  const batch: Batch = { spans: [], metrics: [], logs: [] };
  switch (message) {
    case 'ExportTraceServiceRequest':
      for (const { item, context } of scoped(request, encoding, 'resourceSpans', 'scopeSpans', 'spans')) {
        batch.spans.push(toSpan(item, context));
      }
      break;
    case 'ExportMetricsServiceRequest':
      for (const { item, context } of scoped(request, encoding, 'resourceMetrics', 'scopeMetrics', 'metrics')) {
        batch.metrics.push(toMetric(item, context));
      }
      break;
    case 'ExportLogsServiceRequest':
      for (const { item, context } of scoped(request, encoding, 'resourceLogs', 'scopeLogs', 'logRecords')) {
        batch.logs.push(toLog(item, context));
      }
      break;
    default:
      throw new Error(`${message} is not an export request`);
  }
  return batch;
}

/*
 * The readers below accept both shapes a field can arrive in: decoded
 * protobuf (bigint for 64-bit integers, Buffer for bytes) and OTLP/JSON
 * (int64 as string or number, ids as hex strings, bytes as base64). A
 * missing field means the proto3 default. Anything else is a malformed
 * request.
 */
type Fields = Record<string, unknown>;

function malformed(what: string, value: unknown): never {
  const shown = typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value);
  throw new RequestError(400, `malformed ${what}: ${shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}`);
}

function fields(value: unknown, what: string): Fields {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || value instanceof Uint8Array) malformed(what, value);
  return value as Fields;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) malformed(what, value);
  return value;
}

function text(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') malformed(what, value);
  return value;
}

function bool(value: unknown, what: string): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') malformed(what, value);
  return value;
}

function int64(value: unknown, what: string): bigint {
  if (value === undefined || value === null) return 0n;
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return BigInt(value);
  return malformed(what, value);
}

/** Enums and 32-bit integers; also int64 values a test wants as plain numbers. */
function int(value: unknown, what: string): number {
  return Number(int64(value, what));
}

function double(value: unknown, what: string): number {
  if (typeof value === 'number') return value;
  // proto3 JSON spells the non-finite doubles as strings.
  if (value === 'NaN' || value === 'Infinity' || value === '-Infinity') return Number(value);
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return malformed(what, value);
}

function optionalDouble(value: unknown, what: string): number | undefined {
  return value === undefined || value === null ? undefined : double(value, what);
}

function id(value: unknown, what: string): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (typeof value === 'string' && /^(?:[0-9a-fA-F]{2})*$/.test(value)) return value.toLowerCase();
  return malformed(what, value);
}

function bytesValue(value: unknown, what: string): Buffer {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) return Buffer.from(value, 'base64');
  return malformed(what, value);
}

function anyValue(value: unknown): unknown {
  const v = fields(value, 'AnyValue');
  if ('stringValue' in v) return text(v.stringValue, 'stringValue');
  if ('boolValue' in v) return bool(v.boolValue, 'boolValue');
  if ('intValue' in v) return int(v.intValue, 'intValue');
  if ('doubleValue' in v) return double(v.doubleValue, 'doubleValue');
  if ('arrayValue' in v) return list(fields(v.arrayValue, 'arrayValue').values, 'arrayValue.values').map(anyValue);
  if ('kvlistValue' in v) return attributes(fields(v.kvlistValue, 'kvlistValue').values);
  if ('bytesValue' in v) return bytesValue(v.bytesValue, 'bytesValue');
  return undefined;
}

function attributes(value: unknown): SinkAttributes {
  // fromEntries defines own properties, so a '__proto__' key stays data instead of replacing the prototype.
  return Object.fromEntries(
    list(value, 'attributes').map((kv) => {
      const { key, value: v } = fields(kv, 'KeyValue');
      return [text(key, 'KeyValue.key'), anyValue(v)];
    }),
  );
}

function scope(value: unknown): SinkScope {
  const s = fields(value, 'scope');
  return { name: text(s.name, 'scope.name'), version: text(s.version, 'scope.version') };
}

function* scoped(
  request: unknown,
  encoding: SinkEncoding,
  resourceKey: string,
  scopeKey: string,
  itemKey: string,
): Generator<{ item: Fields; context: SinkTelemetry }> {
  for (const resourceEntry of list(fields(request, 'request')[resourceKey], resourceKey)) {
    const r = fields(resourceEntry, resourceKey);
    const resource = attributes(fields(r.resource, 'resource').attributes);
    for (const scopeEntry of list(r[scopeKey], scopeKey)) {
      const s = fields(scopeEntry, scopeKey);
      const context = { scope: scope(s.scope), resource, encoding };
      for (const item of list(s[itemKey], itemKey)) yield { item: fields(item, itemKey), context };
    }
  }
}

function toSpan(s: Fields, context: SinkTelemetry): SinkSpan {
  const status = fields(s.status, 'status');
  return {
    traceId: id(s.traceId, 'traceId'),
    spanId: id(s.spanId, 'spanId'),
    parentSpanId: id(s.parentSpanId, 'parentSpanId'),
    traceState: text(s.traceState, 'traceState'),
    name: text(s.name, 'span name'),
    kind: int(s.kind, 'kind'),
    startTimeUnixNano: int64(s.startTimeUnixNano, 'startTimeUnixNano'),
    endTimeUnixNano: int64(s.endTimeUnixNano, 'endTimeUnixNano'),
    attributes: attributes(s.attributes),
    events: list(s.events, 'events').map((entry) => {
      const e = fields(entry, 'event');
      return {
        name: text(e.name, 'event name'),
        timeUnixNano: int64(e.timeUnixNano, 'event timeUnixNano'),
        attributes: attributes(e.attributes),
      };
    }),
    links: list(s.links, 'links').map((entry) => {
      const l = fields(entry, 'link');
      return { traceId: id(l.traceId, 'link traceId'), spanId: id(l.spanId, 'link spanId'), attributes: attributes(l.attributes) };
    }),
    status: { code: int(status.code, 'status.code'), message: text(status.message, 'status.message') },
    flags: int(s.flags, 'flags'),
    ...context,
  };
}

function exemplars(value: unknown): SinkExemplar[] {
  return list(value, 'exemplars').map((entry) => {
    const e = fields(entry, 'Exemplar');
    return {
      traceId: id(e.traceId, 'exemplar traceId'),
      spanId: id(e.spanId, 'exemplar spanId'),
      value: e.asDouble !== undefined ? double(e.asDouble, 'exemplar asDouble') : e.asInt !== undefined ? int(e.asInt, 'exemplar asInt') : undefined,
      timeUnixNano: int64(e.timeUnixNano, 'exemplar timeUnixNano'),
      filteredAttributes: attributes(e.filteredAttributes),
    };
  });
}

function numberPoint(entry: unknown): SinkMetricPoint {
  const p = fields(entry, 'NumberDataPoint');
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: int64(p.startTimeUnixNano, 'startTimeUnixNano'),
    timeUnixNano: int64(p.timeUnixNano, 'timeUnixNano'),
    value:
      p.asDouble !== undefined ? double(p.asDouble, 'asDouble') : p.asInt !== undefined ? int(p.asInt, 'asInt') : undefined,
    exemplars: exemplars(p.exemplars),
  };
}

function histogramPoint(entry: unknown): SinkMetricPoint {
  const p = fields(entry, 'HistogramDataPoint');
  return {
    attributes: attributes(p.attributes),
    startTimeUnixNano: int64(p.startTimeUnixNano, 'startTimeUnixNano'),
    timeUnixNano: int64(p.timeUnixNano, 'timeUnixNano'),
    count: int(p.count, 'count'),
    sum: optionalDouble(p.sum, 'sum'),
    min: optionalDouble(p.min, 'min'),
    max: optionalDouble(p.max, 'max'),
    bucketCounts: list(p.bucketCounts, 'bucketCounts').map((c) => int(c, 'bucketCounts')),
    explicitBounds: list(p.explicitBounds, 'explicitBounds').map((b) => double(b, 'explicitBounds')),
    exemplars: exemplars(p.exemplars),
  };
}

function toMetric(m: Fields, context: SinkTelemetry): SinkMetric {
  const base = { name: text(m.name, 'metric name'), description: text(m.description, 'description'), unit: text(m.unit, 'unit') };
  if (m.gauge !== undefined) {
    const gauge = fields(m.gauge, 'gauge');
    return { ...base, type: 'gauge', points: list(gauge.dataPoints, 'dataPoints').map(numberPoint), ...context };
  }
  if (m.sum !== undefined) {
    const sum = fields(m.sum, 'sum');
    return {
      ...base,
      type: 'sum',
      isMonotonic: bool(sum.isMonotonic, 'isMonotonic'),
      temporality: int(sum.aggregationTemporality, 'aggregationTemporality'),
      points: list(sum.dataPoints, 'dataPoints').map(numberPoint),
      ...context,
    };
  }
  if (m.histogram !== undefined) {
    const histogram = fields(m.histogram, 'histogram');
    return {
      ...base,
      type: 'histogram',
      temporality: int(histogram.aggregationTemporality, 'aggregationTemporality'),
      points: list(histogram.dataPoints, 'dataPoints').map(histogramPoint),
      ...context,
    };
  }
  if (m.exponentialHistogram !== undefined) return { ...base, type: 'exponentialHistogram', points: [], ...context };
  if (m.summary !== undefined) return { ...base, type: 'summary', points: [], ...context };
  return malformed(`metric ${base.name} without data`, Object.keys(m));
}

function toLog(l: Fields, context: SinkTelemetry): SinkLog {
  return {
    timeUnixNano: int64(l.timeUnixNano, 'timeUnixNano'),
    observedTimeUnixNano: int64(l.observedTimeUnixNano, 'observedTimeUnixNano'),
    body: l.body === undefined ? undefined : anyValue(l.body),
    severityNumber: int(l.severityNumber, 'severityNumber'),
    severityText: text(l.severityText, 'severityText'),
    eventName: text(l.eventName, 'eventName'),
    traceId: id(l.traceId, 'traceId'),
    spanId: id(l.spanId, 'spanId'),
    flags: int(l.flags, 'flags'),
    attributes: attributes(l.attributes),
    ...context,
  };
}
