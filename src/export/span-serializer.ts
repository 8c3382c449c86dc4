import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * otlp-transformer's protobuf trace serializer in one pass. The stock one runs its whole
 * serialization twice, a size estimator first (every ID converted, every attribute walked),
 * then the real write; here the buffer is sized from the previous batches' bytes per span
 * and grows if needed. The bytes are the stock serializer's exactly (span-serializer.test.ts
 * compares them), written by the same writer and the same common helpers of the same
 * release; undefined when this release keeps them elsewhere (then the stock one is used).
 */

interface Writer {
  pos: number;
  writeTag(field: number, wireType: number): void;
  writeVarint(value: number): void;
  writeFixed32(value: number): void;
  writeBytes(bytes: Uint8Array): void;
  writeString(value: string): void;
  startLengthDelimited(): number;
  finishLengthDelimited(start: number, length: number): void;
  finish(): Uint8Array;
}

interface Parts {
  readonly ProtobufWriter: new (size: number) => Writer;
  readonly hexToBinary: (hex: string) => Uint8Array;
  readonly writeHrTimeAsFixed64: (writer: Writer, time: unknown) => void;
  readonly writeAttributes: (writer: Writer, attributes: object, field: number) => void;
  readonly writeInstrumentationScope: (writer: Writer, scope: unknown, field: number) => void;
  readonly writeResource: (writer: Writer, resource: unknown, field: number) => void;
}

export interface TraceSerializer {
  serializeRequest(spans: ReadableSpan[]): Uint8Array;
  deserializeResponse(bytes: Uint8Array): unknown;
}

const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;
/** The first batch's guess; each later one sizes from the one before, so the buffer rarely grows (each growth copies). */
const FIRST_BYTES_PER_SPAN = 1024;

/**
 * A module inside otlp-transformer. Its `exports` map hides everything but the index since the
 * 3.x line. In the preload's bundle `literal` is the module itself: tools/bundle.js resolves
 * `@opentelemetry/otlp-transformer/dist/...` past the map, so the bundle holds each file once
 * and shares it with the stock serializer. Unbundled (our unit tests), Node refuses that path,
 * and the same file is required by its path next to the package's index.
 */
export function transformerFile<T>(literal: () => unknown, file: string): T {
  try {
    return literal() as T;
  } catch {
    const { dirname, join } = require('node:path') as typeof import('node:path');
    // Through a variable: the bundle never takes this path, and esbuild warns on a literal.
    const pkg = '@opentelemetry/otlp-transformer';
    return require(join(dirname(require.resolve(pkg)), file)) as T;
  }
}

function parts(): Parts | undefined {
  try {
    const { ProtobufWriter } = transformerFile<Partial<Parts>>(
      () => require('@opentelemetry/otlp-transformer/dist/common/protobuf/protobuf-writer.cjs'),
      'common/protobuf/protobuf-writer.cjs',
    );
    const { hexToBinary } = transformerFile<Partial<Parts>>(() => require('@opentelemetry/otlp-transformer/dist/common/hex-to-binary.cjs'), 'common/hex-to-binary.cjs');
    const common = transformerFile<Partial<Parts>>(
      () => require('@opentelemetry/otlp-transformer/dist/common/protobuf/common-serializer.cjs'),
      'common/protobuf/common-serializer.cjs',
    );
    const { writeHrTimeAsFixed64, writeAttributes, writeInstrumentationScope, writeResource } = common;
    if (!ProtobufWriter || !hexToBinary || !writeHrTimeAsFixed64 || !writeAttributes || !writeInstrumentationScope || !writeResource) return undefined;
    return { ProtobufWriter, hexToBinary, writeHrTimeAsFixed64, writeAttributes, writeInstrumentationScope, writeResource };
  } catch {
    return undefined;
  }
}

function flagsOf(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

/** `stock` supplies deserializeResponse; undefined when the parts are not where this release keeps them. */
export function onePassTraceSerializer(stock: TraceSerializer): TraceSerializer | undefined {
  const p = parts();
  if (!p) return undefined;
  const { hexToBinary, writeHrTimeAsFixed64, writeAttributes } = p;

  const status = (w: Writer, s: ReadableSpan['status']) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    if (s.message) {
      w.writeTag(2, 2);
      w.writeString(s.message);
    }
    w.writeTag(3, 0);
    w.writeVarint(s.code);
    w.finishLengthDelimited(start, w.pos - from);
  };

  const event = (w: Writer, e: ReadableSpan['events'][number]) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    w.writeTag(1, 1);
    writeHrTimeAsFixed64(w, e.time);
    w.writeTag(2, 2);
    w.writeString(e.name);
    if (e.attributes) writeAttributes(w, e.attributes, 3);
    w.writeTag(4, 0);
    w.writeVarint(e.droppedAttributesCount || 0);
    w.finishLengthDelimited(start, w.pos - from);
  };

  /** trace_id (1), span_id (2) and trace_state (3): the same fields in a Span and in a Span.Link. */
  const ids = (w: Writer, ctx: ReturnType<ReadableSpan['spanContext']>) => {
    w.writeTag(1, 2);
    w.writeBytes(hexToBinary(ctx.traceId));
    w.writeTag(2, 2);
    w.writeBytes(hexToBinary(ctx.spanId));
    const state = ctx.traceState?.serialize();
    if (state) {
      w.writeTag(3, 2);
      w.writeString(state);
    }
  };

  const link = (w: Writer, l: ReadableSpan['links'][number]) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    const ctx = l.context;
    ids(w, ctx);
    if (l.attributes) writeAttributes(w, l.attributes, 4);
    w.writeTag(5, 0);
    w.writeVarint(l.droppedAttributesCount || 0);
    w.writeTag(6, 5);
    w.writeFixed32(flagsOf(ctx.traceFlags, ctx.isRemote));
    w.finishLengthDelimited(start, w.pos - from);
  };

  const span = (w: Writer, s: ReadableSpan) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    const ctx = s.spanContext();
    ids(w, ctx);
    const parent = s.parentSpanContext;
    if (parent?.spanId) {
      w.writeTag(4, 2);
      w.writeBytes(hexToBinary(parent.spanId));
    }
    w.writeTag(5, 2);
    w.writeString(s.name);
    // The API's kinds start at 0 (INTERNAL); OTLP's 0 is UNSPECIFIED.
    const kind = s.kind == null ? 0 : s.kind + 1;
    if (kind !== 0) {
      w.writeTag(6, 0);
      w.writeVarint(kind);
    }
    w.writeTag(7, 1);
    writeHrTimeAsFixed64(w, s.startTime);
    w.writeTag(8, 1);
    writeHrTimeAsFixed64(w, s.endTime);
    if (s.attributes) writeAttributes(w, s.attributes, 9);
    w.writeTag(10, 0);
    w.writeVarint(s.droppedAttributesCount);
    for (const e of s.events) {
      w.writeTag(11, 2);
      event(w, e);
    }
    w.writeTag(12, 0);
    w.writeVarint(s.droppedEventsCount);
    for (const l of s.links) {
      w.writeTag(13, 2);
      link(w, l);
    }
    w.writeTag(14, 0);
    w.writeVarint(s.droppedLinksCount);
    w.writeTag(15, 2);
    status(w, s.status);
    w.writeTag(16, 5);
    w.writeFixed32(flagsOf(ctx.traceFlags, parent?.isRemote));
    w.finishLengthDelimited(start, w.pos - from);
  };

  const scopeSpans = (w: Writer, spans: ReadableSpan[]) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    const scope = spans[0]!.instrumentationScope;
    p.writeInstrumentationScope(w, scope, 1);
    for (const s of spans) {
      w.writeTag(2, 2);
      span(w, s);
    }
    if (scope.schemaUrl) {
      w.writeTag(3, 2);
      w.writeString(scope.schemaUrl);
    }
    w.finishLengthDelimited(start, w.pos - from);
  };

  const resourceSpans = (w: Writer, resource: ReadableSpan['resource'], scopes: Map<unknown, ReadableSpan[]>) => {
    const start = w.startLengthDelimited();
    const from = w.pos;
    p.writeResource(w, resource, 1);
    for (const spans of scopes.values()) {
      w.writeTag(2, 2);
      scopeSpans(w, spans);
    }
    const schemaUrl = (resource as { schemaUrl?: string }).schemaUrl;
    if (schemaUrl) {
      w.writeTag(3, 2);
      w.writeString(schemaUrl);
    }
    w.finishLengthDelimited(start, w.pos - from);
  };

  let bytesPerSpan = FIRST_BYTES_PER_SPAN;
  const serializeRequest = (spans: ReadableSpan[]): Uint8Array => {
    // Grouped by identity, in first-seen order, as the stock serializer groups them.
    const byResource = new Map<ReadableSpan['resource'], Map<unknown, ReadableSpan[]>>();
    for (const s of spans) {
      let scopes = byResource.get(s.resource);
      if (!scopes) byResource.set(s.resource, (scopes = new Map()));
      const list = scopes.get(s.instrumentationScope);
      if (list) list.push(s);
      else scopes.set(s.instrumentationScope, [s]);
    }
    const w = new p.ProtobufWriter(Math.max(64, spans.length * bytesPerSpan));
    for (const [resource, scopes] of byResource) {
      w.writeTag(1, 2);
      resourceSpans(w, resource, scopes);
    }
    // From the last batch alone: one batch of huge spans must not size every later buffer.
    if (spans.length > 0) bytesPerSpan = Math.ceil((w.pos / spans.length) * 1.25);
    return w.finish();
  };
  return { serializeRequest, deserializeResponse: (bytes) => stock.deserializeResponse(bytes) };
}
