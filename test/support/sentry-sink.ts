/**
 * A local Sentry ingestion endpoint for integration tests. It accepts what
 * the real @sentry/node transport sends (envelopes, optionally compressed),
 * the legacy store endpoint, and OTLP traces sent to the URL
 * `Sentry.getOtlpTracesEndpoint(dsn)` builds, and records everything so
 * tests can assert on decoded events and spans, or search every byte the
 * sink ever received for a string that must not have left the process.
 *
 * Like Relay, it wants the DSN's public key on every request (`sentry_key`
 * in the query string or the X-Sentry-Auth header, or the envelope header's
 * `dsn`) and answers 401 without it, so a test also proves the SDK
 * authenticates.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw } from 'node:zlib';
import { parseRequest, type SinkEncoding, type SinkSpan } from './otlp-sink';
import { waitFor } from './wait';

export const SENTRY_PUBLIC_KEY = 'publickey123';
export const SENTRY_PROJECT_ID = '42';

export type SentrySinkMode = 'ok' | 'down' | 'slow';

/** How long every answer is held back in 'slow' mode. */
export const SLOW_MODE_DELAY_MS = 5_000;

export type SentryJson = null | boolean | number | string | SentryJson[] | { [key: string]: SentryJson };

/** The wire form of an event, loosely typed: the fields tests usually look at, and anything else. */
export interface SentryEvent {
  event_id?: string;
  type?: string;
  level?: string;
  message?: string | { message?: string; formatted?: string; params?: unknown[] };
  exception?: {
    values?: {
      type?: string;
      value?: string;
      mechanism?: { type?: string; handled?: boolean; [key: string]: unknown };
      stacktrace?: { frames?: { filename?: string; function?: string; lineno?: number; [key: string]: unknown }[] };
      [key: string]: unknown;
    }[];
  };
  breadcrumbs?: { timestamp?: number; type?: string; category?: string; message?: string; level?: string; data?: Record<string, unknown> }[];
  tags?: Record<string, string>;
  extra?: Record<string, unknown>;
  contexts?: Record<string, Record<string, unknown>>;
  user?: Record<string, unknown>;
  request?: Record<string, unknown>;
  environment?: string;
  release?: string;
  server_name?: string;
  platform?: string;
  sdk?: { name?: string; version?: string; [key: string]: unknown };
  timestamp?: number;
  [key: string]: unknown;
}

export type SentryEnvelopeHeader = Record<string, unknown> & { event_id?: string; dsn?: string; sent_at?: string };

export interface SentryItemHeader {
  type: string;
  length?: number;
  content_type?: string;
  filename?: string;
  [key: string]: unknown;
}

export interface SentryItem {
  type: string;
  header: SentryItemHeader;
  /** Parsed JSON for JSON items (event, transaction, session, client_report, check_in, ...), the raw bytes otherwise. */
  payload: SentryJson | Buffer;
}

export type SentryEndpoint = 'envelope' | 'store' | 'otlp';

export interface SentryRequestRecord {
  endpoint: SentryEndpoint | 'unknown';
  method: string;
  /** Path and query string as requested. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The answer given; 0 while a 'slow' answer is still pending. */
  status: number;
  /** Why a request was not accepted; '' when it was. */
  reason: string;
}

export interface SentrySink {
  readonly url: string;
  readonly port: number;
  /** `http://publickey123@127.0.0.1:<port>/42` */
  readonly dsn: string;
  /** Payloads of the 'event' items (and of legacy store requests that are not transactions). */
  readonly events: SentryEvent[];
  /** Every envelope item, of every type. */
  readonly items: SentryItem[];
  /** Envelope headers, one per accepted envelope (a store request gets a synthesised `{ event_id }`). */
  readonly envelopes: SentryEnvelopeHeader[];
  /** Spans from the OTLP traces endpoint. */
  readonly spans: SinkSpan[];
  /** Request headers of every accepted OTLP request. */
  readonly otlpHeaders: IncomingHttpHeaders[];
  /** Every request body as received, after undoing Content-Encoding (as sent if that failed), in every mode. */
  readonly raw: Buffer[];
  /** Every request, accepted or not, with the answer it got. */
  readonly requests: SentryRequestRecord[];
  /** Everything the sink ever received, as utf8, one body per line, to search for a canary. */
  allBytes(): string;
  /** Items of one type, e.g. 'transaction', 'session', 'client_report'. */
  itemsOfType(type: string): SentryItem[];
  /** Resolves with the probe's first truthy result, polling every 25 ms; rejects with a summary of what was received. */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  /** 'down' answers 503 to everything (bodies still land in `raw`); 'slow' records on receipt but answers 5 s later. */
  setMode(mode: SentrySinkMode): void;
  clear(): void;
  /** Destroys open sockets (and any pending slow answer) and stops listening. */
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Item types whose payload is JSON even when the item header has no content_type. */
const JSON_ITEM_TYPES = new Set([
  'event',
  'transaction',
  'session',
  'sessions',
  'client_report',
  'check_in',
  'user_report',
  'feedback',
  'profile',
  'replay_event',
  'span',
  'log',
  'trace_metric',
  'otel_log',
]);

/** Item types whose payload is never parsed, whatever it looks like. */
const BINARY_ITEM_TYPES = new Set(['attachment', 'replay_recording', 'statsd', 'minidump', 'unreal', 'profile_chunk']);

const ROUTE = /^\/api\/([^/]+)\/(envelope|store|integration\/otlp\/v1\/traces)\/?$/;

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);
const brotliAsync = promisify(brotliDecompress);

/** Thrown for anything wrong with a request; it becomes the 4xx answer. */
class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startSentrySink(): Promise<SentrySink> {
  const events: SentryEvent[] = [];
  const items: SentryItem[] = [];
  const envelopes: SentryEnvelopeHeader[] = [];
  const spans: SinkSpan[] = [];
  const otlpHeaders: IncomingHttpHeaders[] = [];
  const raw: Buffer[] = [];
  const requests: SentryRequestRecord[] = [];
  const sockets = new Set<Socket>();
  const pendingAnswers = new Set<NodeJS.Timeout>();
  let mode: SentrySinkMode = 'ok';
  let closed = false;

  const answer = (res: ServerResponse, record: SentryRequestRecord, status: number, body: string, contentType: string): void => {
    const send = (): void => {
      record.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': String(Buffer.byteLength(body)) }).end(body);
    };
    if (mode !== 'slow') return send();
    const timer = setTimeout(() => {
      pendingAnswers.delete(timer);
      send();
    }, SLOW_MODE_DELAY_MS);
    pendingAnswers.add(timer);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestUrl = new URL(req.url ?? '/', 'http://sink');
    const route = ROUTE.exec(requestUrl.pathname);
    const endpoint: SentryRequestRecord['endpoint'] =
      route?.[2] === 'envelope' ? 'envelope' : route?.[2] === 'store' ? 'store' : route ? 'otlp' : 'unknown';
    const record: SentryRequestRecord = {
      endpoint,
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      status: 0,
      reason: '',
    };
    requests.push(record);

    const wire = await readBody(req);
    let bytes = wire;
    let decompressError: unknown;
    try {
      bytes = await decompress(wire, req.headers['content-encoding'] ?? '');
    } catch (err) {
      decompressError = err;
    }
    raw.push(bytes);

    const refuse = (status: number, reason: string): void => {
      record.reason = reason;
      answer(res, record, status, reason, 'text/plain; charset=utf-8');
    };

    if (mode === 'down') return refuse(503, 'sink is in down mode');
    if (!route) return refuse(404, `no Sentry endpoint at ${requestUrl.pathname}`);
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      return refuse(405, `${req.method} is not allowed`);
    }
    if (route[1] !== SENTRY_PROJECT_ID) return refuse(404, `unknown project ${route[1]}`);

    try {
      if (decompressError !== undefined) throw decompressError;
      const key = requestKey(requestUrl, req.headers);
      if (endpoint === 'otlp') {
        checkKey(key);
        const encoding = otlpEncodingOf(req.headers['content-type'] ?? '');
        const batch = parseRequest('ExportTraceServiceRequest', encoding, bytes);
        spans.push(...batch.spans);
        otlpHeaders.push(req.headers);
        answer(res, record, 200, '', encoding === 'json' ? 'application/json' : 'application/x-protobuf');
        return;
      }

      let header: SentryEnvelopeHeader;
      let parsed: SentryItem[];
      if (endpoint === 'store') {
        checkKey(key);
        const event = parseJson(bytes, 'store body');
        if (!isObject(event)) throw new RequestError(400, 'store body is not a JSON object');
        const type = event.type === 'transaction' ? 'transaction' : 'event';
        header = typeof event.event_id === 'string' ? { event_id: event.event_id } : {};
        parsed = [{ type, header: { type }, payload: event }];
      } else {
        ({ header, items: parsed } = parseEnvelope(bytes));
        checkKey(key ?? keyFromDsn(header.dsn));
      }

      envelopes.push(header);
      for (const item of parsed) {
        items.push(item);
        if (item.type === 'event') events.push(item.payload as SentryEvent);
      }
      const firstEvent = parsed.find((i) => i.type === 'event' || i.type === 'transaction')?.payload;
      const eventId =
        typeof header.event_id === 'string'
          ? header.event_id
          : (isObject(firstEvent) && typeof firstEvent.event_id === 'string' ? firstEvent.event_id : randomUUID().replaceAll('-', ''));
      answer(res, record, 200, JSON.stringify({ id: eventId }), 'application/json');
    } catch (err) {
      refuse(err instanceof RequestError ? err.status : statusOf(err), err instanceof Error ? err.message : String(err));
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

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(0, HOST, () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${HOST}:${port}`;

  const summary = (): string => {
    const eventLines = events.slice(0, 20).map((e) => {
      const exception = e.exception?.values?.[0];
      const message = typeof e.message === 'string' ? e.message : e.message?.formatted ?? e.message?.message;
      return exception ? `${exception.type}: ${exception.value}` : String(message ?? e.event_id);
    });
    const itemTypes = [...new Set(items.map((i) => i.type))];
    const spanNames = [...new Set(spans.map((s) => s.name))].slice(0, 30);
    const refused = requests.filter((r) => r.reason !== '');
    const last = refused.at(-1);
    return (
      `mode: ${mode}, requests: ${requests.length}, events: ${JSON.stringify(eventLines)}, item types: ${JSON.stringify(itemTypes)}, ` +
      `spans: ${JSON.stringify(spanNames)}, raw bytes: ${raw.reduce((n, b) => n + b.length, 0)}` +
      (last ? `, refused: ${refused.length} (last: ${last.status} ${last.method} ${last.url} ${last.reason})` : '')
    );
  };

  return {
    url,
    port,
    dsn: `http://${SENTRY_PUBLIC_KEY}@${HOST}:${port}/${SENTRY_PROJECT_ID}`,
    events,
    items,
    envelopes,
    spans,
    otlpHeaders,
    raw,
    requests,

    allBytes(): string {
      return raw.map((b) => b.toString('utf8')).join('\n');
    },

    itemsOfType(type: string): SentryItem[] {
      return items.filter((i) => i.type === type);
    },

    waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
      return waitFor(probe, timeoutMs, 'Sentry sink', () => `received ${summary()}`);
    },

    setMode(next: SentrySinkMode): void {
      if (closed) throw new Error('Sentry sink is closed');
      mode = next;
    },

    clear(): void {
      for (const list of [events, items, envelopes, spans, otlpHeaders, raw, requests]) list.length = 0;
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const timer of pendingAnswers) clearTimeout(timer);
      pendingAnswers.clear();
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await stopped;
    },
  };
}

/**
 * Splits an envelope: a header line, then for each item a header line and a
 * payload that is either `length` bytes (then an optional newline) or
 * everything up to the next newline.
 */
export function parseEnvelope(body: Buffer): { header: SentryEnvelopeHeader; items: SentryItem[] } {
  let pos = 0;
  const line = (): Buffer => {
    const end = body.indexOf(0x0a, pos);
    const slice = body.subarray(pos, end === -1 ? body.length : end);
    pos = end === -1 ? body.length : end + 1;
    return slice;
  };

  const header = parseJson(line(), 'envelope header');
  if (!isObject(header)) throw new RequestError(400, 'envelope header is not a JSON object');
  const items: SentryItem[] = [];
  while (pos < body.length) {
    const headerLine = line();
    // A trailing newline (or a blank line) is not an item.
    if (headerLine.toString('utf8').trim() === '') continue;
    const itemHeader = parseJson(headerLine, `header of item ${items.length}`);
    if (!isObject(itemHeader) || typeof itemHeader.type !== 'string') {
      throw new RequestError(400, `header of item ${items.length} has no type: ${headerLine.toString('utf8').slice(0, 80)}`);
    }
    let payloadBytes: Buffer;
    if (itemHeader.length !== undefined && itemHeader.length !== null) {
      const length = itemHeader.length;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
        throw new RequestError(400, `item ${items.length} (${itemHeader.type}) has a bad length ${JSON.stringify(length)}`);
      }
      if (pos + length > body.length) {
        throw new RequestError(400, `item ${items.length} (${itemHeader.type}) claims ${length} bytes, ${body.length - pos} left`);
      }
      payloadBytes = body.subarray(pos, pos + length);
      pos += length;
      if (body[pos] === 0x0a) pos += 1;
    } else {
      payloadBytes = line();
    }
    const type = itemHeader.type;
    items.push({ type, header: itemHeader as SentryItemHeader, payload: decodePayload(type, itemHeader.content_type, payloadBytes, items.length) });
  }
  return { header: header as SentryEnvelopeHeader, items };
}

function decodePayload(type: string, contentType: unknown, bytes: Buffer, index: number): SentryJson | Buffer {
  const what = `payload of item ${index} (${type})`;
  if (typeof contentType === 'string') {
    return /^application\/(?:[\w.+-]+\+)?json\b/i.test(contentType.trim()) ? parseJson(bytes, what) : Buffer.from(bytes);
  }
  if (JSON_ITEM_TYPES.has(type)) return parseJson(bytes, what);
  if (BINARY_ITEM_TYPES.has(type)) return Buffer.from(bytes);
  // An item type this sink does not know: JSON if it parses, bytes otherwise.
  try {
    return JSON.parse(bytes.toString('utf8')) as SentryJson;
  } catch {
    return Buffer.from(bytes);
  }
}

function parseJson(bytes: Buffer, what: string): SentryJson {
  const text = bytes.toString('utf8');
  try {
    return JSON.parse(text) as SentryJson;
  } catch (err) {
    throw new RequestError(400, `${what} is not JSON (${(err as Error).message}): ${text.slice(0, 80)}`);
  }
}

function isObject(value: unknown): value is Record<string, SentryJson> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** The public key from the query string or the X-Sentry-Auth header, if either has one. */
function requestKey(url: URL, headers: IncomingHttpHeaders): string | undefined {
  const fromQuery = url.searchParams.get('sentry_key');
  if (fromQuery) return fromQuery;
  const auth = headers['x-sentry-auth'];
  const match = /(?:^|[\s,])sentry_key=([^,\s]+)/.exec(Array.isArray(auth) ? auth.join(',') : auth ?? '');
  return match?.[1];
}

function keyFromDsn(dsn: unknown): string | undefined {
  if (typeof dsn !== 'string') return undefined;
  try {
    return decodeURIComponent(new URL(dsn).username) || undefined;
  } catch {
    return undefined;
  }
}

function checkKey(key: string | undefined): void {
  if (key === undefined) throw new RequestError(401, 'missing sentry_key (query string, X-Sentry-Auth or envelope dsn)');
  if (key !== SENTRY_PUBLIC_KEY) throw new RequestError(401, `unknown sentry_key ${JSON.stringify(key)}`);
}

function otlpEncodingOf(contentType: string): SinkEncoding {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (mediaType === 'application/json') return 'json';
  if (mediaType === 'application/x-protobuf' || mediaType === 'application/protobuf') return 'protobuf';
  throw new RequestError(415, `unsupported Content-Type ${JSON.stringify(contentType)}`);
}

/** parseRequest throws otlp-sink's own error class, which carries a status. */
function statusOf(err: unknown): number {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 400;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function decompress(body: Buffer, contentEncoding: string | string[]): Promise<Buffer> {
  const coding = String(contentEncoding).trim().toLowerCase();
  if (coding === '' || coding === 'identity') return body;
  try {
    if (coding === 'gzip' || coding === 'x-gzip') return await gunzipAsync(body);
    // HTTP's deflate is zlib-wrapped, but some clients send it raw.
    if (coding === 'deflate') return await inflateAsync(body).catch(() => inflateRawAsync(body));
    if (coding === 'br') return await brotliAsync(body);
  } catch (err) {
    throw new RequestError(400, `cannot undo Content-Encoding ${coding}: ${(err as Error).message}`);
  }
  throw new RequestError(415, `unsupported Content-Encoding ${JSON.stringify(contentEncoding)}`);
}
