/**
 * A small protobuf wire-format decoder and the OTLP message tables the test
 * sink needs. It is written by hand, independently of the exporters' own
 * serializer, so that a test going through both really checks the bytes on
 * the wire against opentelemetry-proto rather than the serializer against
 * itself.
 *
 * Field names are the lowerCamelCase names of the proto3 JSON mapping, so a
 * decoded protobuf request has the same shape as an OTLP/JSON one and the sink
 * can normalise both with one code path.
 */

export class ProtobufDecodeError extends Error {
  override name = 'ProtobufDecodeError';
}

export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

/** A varint as a bigint (64-bit values must not lose precision), anything else as its raw bytes. */
export type WireValue = bigint | Uint8Array;

export interface WireField {
  fieldNumber: number;
  wireType: WireType;
  value: WireValue;
}

class WireReader {
  private pos = 0;

  constructor(private readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    // A 64-bit varint is at most 10 bytes; anything longer is corrupt.
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new ProtobufDecodeError('truncated varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << BigInt(7 * i);
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  take(length: number): Uint8Array {
    if (length > this.buf.length - this.pos) {
      throw new ProtobufDecodeError(`truncated field: need ${length} bytes, ${this.buf.length - this.pos} left`);
    }
    const bytes = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return bytes;
  }

  value(wireType: number): WireValue {
    switch (wireType) {
      case WireType.VARINT:
        return this.varint();
      case WireType.I64:
        return this.take(8);
      case WireType.LEN: {
        const length = this.varint();
        if (length > BigInt(this.buf.length)) throw new ProtobufDecodeError(`length ${length} exceeds the buffer`);
        return this.take(Number(length));
      }
      case WireType.I32:
        return this.take(4);
      default:
        // 3 and 4 are the deprecated groups, which no OTLP message uses.
        throw new ProtobufDecodeError(`unsupported wire type ${wireType}`);
    }
  }
}

/** Splits a message into its raw fields, in wire order, without any schema. */
export function* readFields(buf: Uint8Array): Generator<WireField> {
  const reader = new WireReader(buf);
  while (!reader.done) {
    const tag = reader.varint();
    const fieldNumber = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (fieldNumber === 0 || fieldNumber > 0x1fffffff) throw new ProtobufDecodeError(`invalid field number ${fieldNumber}`);
    const value = reader.value(wireType);
    yield { fieldNumber, wireType: wireType as WireType, value };
  }
}

export type ScalarType =
  | 'string'
  | 'bytes'
  | 'bool'
  | 'int32'
  | 'uint32'
  | 'enum'
  | 'int64'
  | 'uint64'
  | 'fixed32'
  | 'fixed64'
  | 'sfixed64'
  | 'double';

export type FieldType = ScalarType | { message: string };

export interface FieldSpec {
  name: string;
  type: FieldType;
  repeated?: boolean;
}

export type MessageSchema = Readonly<Record<number, FieldSpec>>;
export type SchemaSet = Readonly<Record<string, MessageSchema>>;

/** 64-bit integers decode to bigint, 32-bit ones and doubles to number, bytes to Buffer. */
export type Decoded = string | number | bigint | boolean | Uint8Array | DecodedMessage | Decoded[];
export interface DecodedMessage {
  [field: string]: Decoded;
}

const SCALAR_WIRE_TYPE: Record<ScalarType, WireType> = {
  string: WireType.LEN,
  bytes: WireType.LEN,
  bool: WireType.VARINT,
  int32: WireType.VARINT,
  uint32: WireType.VARINT,
  enum: WireType.VARINT,
  int64: WireType.VARINT,
  uint64: WireType.VARINT,
  fixed32: WireType.I32,
  fixed64: WireType.I64,
  sfixed64: WireType.I64,
  double: WireType.I64,
};

// Strings in protobuf must be valid UTF-8; silently substituting U+FFFD would hide corrupt payloads.
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeScalar(type: ScalarType, raw: WireValue): Decoded {
  if (typeof raw === 'bigint') {
    switch (type) {
      case 'bool':
        return raw !== 0n;
      case 'int32':
      case 'enum':
        return Number(BigInt.asIntN(32, raw));
      case 'uint32':
        return Number(BigInt.asUintN(32, raw));
      case 'int64':
        return BigInt.asIntN(64, raw);
      case 'uint64':
        return raw;
    }
  } else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    switch (type) {
      case 'string':
        try {
          return utf8.decode(raw);
        } catch {
          throw new ProtobufDecodeError('string field is not valid UTF-8');
        }
      case 'bytes':
        // Copy, so a decoded id does not pin the whole request body in memory.
        return Buffer.from(raw);
      case 'fixed32':
        return view.getUint32(0, true);
      case 'fixed64':
        return view.getBigUint64(0, true);
      case 'sfixed64':
        return view.getBigInt64(0, true);
      case 'double':
        return view.getFloat64(0, true);
    }
  }
  throw new ProtobufDecodeError(`cannot read ${type} from a ${typeof raw === 'bigint' ? 'varint' : 'byte'} value`);
}

/** Splits a packed repeated scalar field (proto3's default for repeated numbers) into its elements. */
function unpack(bytes: Uint8Array, wireType: WireType): WireValue[] {
  const reader = new WireReader(bytes);
  const values: WireValue[] = [];
  while (!reader.done) values.push(reader.value(wireType));
  return values;
}

function decodeField(schemas: SchemaSet, spec: FieldSpec, field: WireField): Decoded[] {
  const where = `${spec.name} (field ${field.fieldNumber})`;
  if (typeof spec.type === 'object') {
    if (!(field.value instanceof Uint8Array) || field.wireType !== WireType.LEN) {
      throw new ProtobufDecodeError(`${where}: expected a length-delimited message, got wire type ${field.wireType}`);
    }
    return [decodeMessage(schemas, spec.type.message, field.value)];
  }
  const scalarType = spec.type;
  const expected = SCALAR_WIRE_TYPE[scalarType];
  if (field.wireType === expected) return [decodeScalar(scalarType, field.value)];
  if (spec.repeated && field.wireType === WireType.LEN && expected !== WireType.LEN && field.value instanceof Uint8Array) {
    return unpack(field.value, expected).map((value) => decodeScalar(scalarType, value));
  }
  throw new ProtobufDecodeError(`${where}: wire type ${field.wireType}, expected ${expected}`);
}

/**
 * Decodes `bytes` as the message `typeName` of `schemas`. Fields absent from
 * the schema are skipped, as protobuf requires, so newer producers that add
 * fields still decode; absent fields are absent from the result (proto3 does
 * not send default values), and repeated fields are arrays.
 */
export function decodeMessage(schemas: SchemaSet, typeName: string, bytes: Uint8Array): DecodedMessage {
  const schema = schemas[typeName];
  if (!schema) throw new Error(`no schema for message ${typeName}`);
  const out: DecodedMessage = {};
  const repeated = new Map<string, Decoded[]>();
  for (const field of readFields(bytes)) {
    const spec = schema[field.fieldNumber];
    if (!spec) continue;
    const values = decodeField(schemas, spec, field);
    if (spec.repeated) {
      let list = repeated.get(spec.name);
      if (!list) repeated.set(spec.name, (list = []));
      list.push(...values);
    } else {
      // For a non-repeated field sent twice, protobuf says the last one wins.
      out[spec.name] = values[values.length - 1]!;
    }
  }
  for (const [name, list] of repeated) out[name] = list;
  return out;
}

const one = (name: string, type: FieldType): FieldSpec => ({ name, type });
const many = (name: string, type: FieldType): FieldSpec => ({ name, type, repeated: true });
const msg = (message: string): FieldType => ({ message });

/**
 * The subset of opentelemetry-proto (v1.x) that the sink decodes, keyed by
 * message name; field numbers are those of the .proto files. Exponential
 * histograms and summaries are decoded as empty messages so the sink can still
 * tell which kind of metric arrived.
 */
export const OTLP_SCHEMAS = {
  // opentelemetry/proto/common/v1/common.proto
  AnyValue: {
    1: one('stringValue', 'string'),
    2: one('boolValue', 'bool'),
    3: one('intValue', 'int64'),
    4: one('doubleValue', 'double'),
    5: one('arrayValue', msg('ArrayValue')),
    6: one('kvlistValue', msg('KeyValueList')),
    7: one('bytesValue', 'bytes'),
  },
  ArrayValue: {
    1: many('values', msg('AnyValue')),
  },
  KeyValueList: {
    1: many('values', msg('KeyValue')),
  },
  KeyValue: {
    1: one('key', 'string'),
    2: one('value', msg('AnyValue')),
  },
  InstrumentationScope: {
    1: one('name', 'string'),
    2: one('version', 'string'),
    3: many('attributes', msg('KeyValue')),
    4: one('droppedAttributesCount', 'uint32'),
  },

  // opentelemetry/proto/resource/v1/resource.proto
  Resource: {
    1: many('attributes', msg('KeyValue')),
    2: one('droppedAttributesCount', 'uint32'),
  },

  // opentelemetry/proto/collector/trace/v1/trace_service.proto and trace/v1/trace.proto
  ExportTraceServiceRequest: {
    1: many('resourceSpans', msg('ResourceSpans')),
  },
  ResourceSpans: {
    1: one('resource', msg('Resource')),
    2: many('scopeSpans', msg('ScopeSpans')),
    3: one('schemaUrl', 'string'),
  },
  ScopeSpans: {
    1: one('scope', msg('InstrumentationScope')),
    2: many('spans', msg('Span')),
    3: one('schemaUrl', 'string'),
  },
  Span: {
    1: one('traceId', 'bytes'),
    2: one('spanId', 'bytes'),
    3: one('traceState', 'string'),
    4: one('parentSpanId', 'bytes'),
    5: one('name', 'string'),
    6: one('kind', 'enum'),
    7: one('startTimeUnixNano', 'fixed64'),
    8: one('endTimeUnixNano', 'fixed64'),
    9: many('attributes', msg('KeyValue')),
    10: one('droppedAttributesCount', 'uint32'),
    11: many('events', msg('Span.Event')),
    12: one('droppedEventsCount', 'uint32'),
    13: many('links', msg('Span.Link')),
    14: one('droppedLinksCount', 'uint32'),
    15: one('status', msg('Status')),
    16: one('flags', 'fixed32'),
  },
  'Span.Event': {
    1: one('timeUnixNano', 'fixed64'),
    2: one('name', 'string'),
    3: many('attributes', msg('KeyValue')),
    4: one('droppedAttributesCount', 'uint32'),
  },
  'Span.Link': {
    1: one('traceId', 'bytes'),
    2: one('spanId', 'bytes'),
    3: one('traceState', 'string'),
    4: many('attributes', msg('KeyValue')),
    5: one('droppedAttributesCount', 'uint32'),
    6: one('flags', 'fixed32'),
  },
  Status: {
    // Field 1 is reserved (the removed deprecated_code).
    2: one('message', 'string'),
    3: one('code', 'enum'),
  },

  // opentelemetry/proto/collector/metrics/v1/metrics_service.proto and metrics/v1/metrics.proto
  ExportMetricsServiceRequest: {
    1: many('resourceMetrics', msg('ResourceMetrics')),
  },
  ResourceMetrics: {
    1: one('resource', msg('Resource')),
    2: many('scopeMetrics', msg('ScopeMetrics')),
    3: one('schemaUrl', 'string'),
  },
  ScopeMetrics: {
    1: one('scope', msg('InstrumentationScope')),
    2: many('metrics', msg('Metric')),
    3: one('schemaUrl', 'string'),
  },
  Metric: {
    1: one('name', 'string'),
    2: one('description', 'string'),
    3: one('unit', 'string'),
    5: one('gauge', msg('Gauge')),
    7: one('sum', msg('Sum')),
    9: one('histogram', msg('Histogram')),
    10: one('exponentialHistogram', msg('Undecoded')),
    11: one('summary', msg('Undecoded')),
    12: many('metadata', msg('KeyValue')),
  },
  Gauge: {
    1: many('dataPoints', msg('NumberDataPoint')),
  },
  Sum: {
    1: many('dataPoints', msg('NumberDataPoint')),
    2: one('aggregationTemporality', 'enum'),
    3: one('isMonotonic', 'bool'),
  },
  Histogram: {
    1: many('dataPoints', msg('HistogramDataPoint')),
    2: one('aggregationTemporality', 'enum'),
  },
  NumberDataPoint: {
    7: many('attributes', msg('KeyValue')),
    2: one('startTimeUnixNano', 'fixed64'),
    3: one('timeUnixNano', 'fixed64'),
    4: one('asDouble', 'double'),
    6: one('asInt', 'sfixed64'),
    5: many('exemplars', msg('Exemplar')),
    8: one('flags', 'uint32'),
  },
  HistogramDataPoint: {
    9: many('attributes', msg('KeyValue')),
    2: one('startTimeUnixNano', 'fixed64'),
    3: one('timeUnixNano', 'fixed64'),
    4: one('count', 'fixed64'),
    5: one('sum', 'double'),
    6: many('bucketCounts', 'fixed64'),
    7: many('explicitBounds', 'double'),
    8: many('exemplars', msg('Exemplar')),
    10: one('flags', 'uint32'),
    11: one('min', 'double'),
    12: one('max', 'double'),
  },
  Exemplar: {
    7: many('filteredAttributes', msg('KeyValue')),
    2: one('timeUnixNano', 'fixed64'),
    3: one('asDouble', 'double'),
    6: one('asInt', 'sfixed64'),
    4: one('spanId', 'bytes'),
    5: one('traceId', 'bytes'),
  },
  Undecoded: {},

  // opentelemetry/proto/collector/logs/v1/logs_service.proto and logs/v1/logs.proto
  ExportLogsServiceRequest: {
    1: many('resourceLogs', msg('ResourceLogs')),
  },
  ResourceLogs: {
    1: one('resource', msg('Resource')),
    2: many('scopeLogs', msg('ScopeLogs')),
    3: one('schemaUrl', 'string'),
  },
  ScopeLogs: {
    1: one('scope', msg('InstrumentationScope')),
    2: many('logRecords', msg('LogRecord')),
    3: one('schemaUrl', 'string'),
  },
  LogRecord: {
    1: one('timeUnixNano', 'fixed64'),
    11: one('observedTimeUnixNano', 'fixed64'),
    2: one('severityNumber', 'enum'),
    3: one('severityText', 'string'),
    5: one('body', msg('AnyValue')),
    6: many('attributes', msg('KeyValue')),
    7: one('droppedAttributesCount', 'uint32'),
    8: one('flags', 'fixed32'),
    9: one('traceId', 'bytes'),
    10: one('spanId', 'bytes'),
    12: one('eventName', 'string'),
  },
} satisfies SchemaSet;

export type OtlpMessageName = keyof typeof OTLP_SCHEMAS;
