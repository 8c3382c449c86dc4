import { nanosOf, type PointExemplar } from './exemplars';

/*
 * The stock metrics serializers write no exemplars. Rather than a serializer of our own (a copy
 * of theirs to keep in step, or their internal writer, which no package export promises), their
 * output is taken as it is and the exemplars are added to it: the bytes they write follow the
 * public proto (opentelemetry/proto/metrics/v1/metrics.proto), which does not change under us.
 * Fields may come in any order in a message, so an exemplar appended after a point's own fields
 * is a valid point; only the lengths of the messages around it are written anew.
 */

/**
 * The messages on the way from ExportMetricsServiceRequest down to a data point, by field
 * number: resource_metrics, scope_metrics, metrics, then the Metric's data (gauge, sum,
 * histogram, exponential_histogram, whose value is the points' own exemplars field), then
 * data_points.
 */
const PATH: ReadonlyArray<Readonly<Record<number, number>>> = [{ 1: 0 }, { 2: 0 }, { 2: 0 }, { 5: 5, 7: 5, 9: 8, 10: 11 }, { 1: 0 }];
const POINT = PATH.length;
const LEN = 2;

interface Cursor {
  readonly points: ReadonlyArray<readonly PointExemplar[]>;
  next: number;
}

/** The stock protobuf request with each point's exemplars added; throws if the points do not line up. */
export function spliceProtobuf(stock: Uint8Array, points: ReadonlyArray<readonly PointExemplar[]>): Uint8Array {
  const cursor: Cursor = { points, next: 0 };
  const out = rewrite(stock, 0, 0, cursor);
  if (cursor.next !== points.length) throw new Error(`${cursor.next} points serialized, ${points.length} produced`);
  return out;
}

/** `message` itself when nothing under it changed, so untouched parts keep their very bytes. */
function rewrite(message: Uint8Array, depth: number, exemplarField: number, cursor: Cursor): Uint8Array {
  if (depth === POINT) {
    const exemplars = cursor.points[cursor.next++];
    if (exemplars === undefined) throw new Error('more points serialized than produced');
    if (exemplars.length === 0) return message;
    return withExemplarFields(message, exemplarField, exemplars);
  }
  const parts: Uint8Array[] = [];
  let changed = false;
  let pos = 0;
  while (pos < message.length) {
    const start = pos;
    const [tag, afterTag] = varint(message, pos);
    const number = Math.floor(tag / 8);
    pos = skip(message, afterTag, tag % 8);
    const into = PATH[depth]![number];
    if (into !== undefined && tag % 8 === LEN) {
      const [length, body] = varint(message, afterTag);
      const inner = message.subarray(body, body + length);
      const rewritten = rewrite(inner, depth + 1, depth === 3 ? into : exemplarField, cursor);
      if (rewritten !== inner) {
        parts.push(field(number, rewritten));
        changed = true;
        continue;
      }
    }
    parts.push(message.subarray(start, pos));
  }
  return changed ? Buffer.concat(parts) : message;
}

function varint(buf: Uint8Array, at: number): [value: number, next: number] {
  let value = 0;
  for (let shift = 1, pos = at; pos < buf.length && pos < at + 10; shift *= 128) {
    const byte = buf[pos++]!;
    value += (byte & 0x7f) * shift;
    if (byte < 0x80) return [value, pos];
  }
  throw new Error(`bad varint at ${at}`);
}

/** The position after a field's value. */
function skip(buf: Uint8Array, at: number, wireType: number): number {
  const end = (() => {
    if (wireType === 0) return varint(buf, at)[1];
    if (wireType === 1) return at + 8;
    if (wireType === 5) return at + 4;
    if (wireType === LEN) {
      const [length, body] = varint(buf, at);
      return body + length;
    }
    throw new Error(`wire type ${wireType} at ${at}`);
  })();
  if (end > buf.length) throw new Error(`field past the end at ${at}`);
  return end;
}

function encodeVarint(value: number): Buffer {
  const bytes: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 128)) bytes.push((value % 128) | 0x80);
  bytes.push(value);
  return Buffer.from(bytes);
}

function field(number: number, body: Uint8Array): Buffer {
  return Buffer.concat([encodeVarint(number * 8 + LEN), encodeVarint(body.length), body]);
}

const EXEMPLAR_LENGTH = 46;

/**
 * The point's bytes, then one field per exemplar, written in place: the tag (field 5, 8 or 11)
 * and the length (46) fit one byte each. Exemplar: time_unix_nano (2, fixed64), as_double (3),
 * span_id (4, bytes), trace_id (5, bytes); no filtered_attributes (7).
 */
function withExemplarFields(point: Uint8Array, fieldNumber: number, exemplars: readonly PointExemplar[]): Buffer {
  const out = Buffer.allocUnsafe(point.length + exemplars.length * (2 + EXEMPLAR_LENGTH));
  out.set(point, 0);
  let at = point.length;
  for (const e of exemplars) {
    out[at] = fieldNumber * 8 + LEN;
    out[at + 1] = EXEMPLAR_LENGTH;
    out[at + 2] = 0x11;
    out.writeBigUInt64LE(nanosOf(e.timeMs), at + 3);
    out[at + 11] = 0x19;
    out.writeDoubleLE(e.value, at + 12);
    out[at + 20] = 0x22;
    out[at + 21] = 8;
    out.write(e.spanId, at + 22, 8, 'hex');
    out[at + 30] = 0x2a;
    out[at + 31] = 16;
    out.write(e.traceId, at + 32, 16, 'hex');
    at += 2 + EXEMPLAR_LENGTH;
  }
  return out;
}

type JsonPoint = { exemplars?: unknown[] };
type JsonMetric = Record<string, { dataPoints?: JsonPoint[] } | undefined>;
type JsonRequest = { resourceMetrics?: Array<{ scopeMetrics?: Array<{ metrics?: JsonMetric[] }> }> };

const JSON_DATA = ['gauge', 'sum', 'histogram', 'exponentialHistogram'] as const;

/** The stock OTLP/JSON request with each point's exemplars added (ids in hex, int64 as a string, as OTLP/JSON has them). */
export function patchJson(stock: Uint8Array, points: ReadonlyArray<readonly PointExemplar[]>): Uint8Array {
  const request = JSON.parse(Buffer.from(stock).toString('utf8')) as JsonRequest;
  let next = 0;
  for (const resource of request.resourceMetrics ?? []) {
    for (const scope of resource.scopeMetrics ?? []) {
      for (const metric of scope.metrics ?? []) {
        const data = JSON_DATA.map((key) => metric[key]).find((d) => d !== undefined);
        for (const point of data?.dataPoints ?? []) {
          const exemplars = points[next++];
          if (exemplars === undefined) throw new Error('more points serialized than produced');
          if (exemplars.length > 0) point.exemplars = exemplars.map(jsonExemplar);
        }
      }
    }
  }
  if (next !== points.length) throw new Error(`${next} points serialized, ${points.length} produced`);
  return new TextEncoder().encode(JSON.stringify(request));
}

const jsonExemplar = (e: PointExemplar) => ({ timeUnixNano: nanosOf(e.timeMs).toString(), asDouble: e.value, spanId: e.spanId, traceId: e.traceId });
