/**
 * An OTLP/gRPC receiver: the three Export methods served with raw bytes and decoded by
 * the same protobuf tables as the HTTP sink, so no .proto files are needed.
 */
import type * as Grpc from '@grpc/grpc-js';
import { parseRequest, type SinkLog, type SinkMetric, type SinkSpan } from './otlp-sink';
import { waitFor } from './wait';

const SERVICES = {
  'opentelemetry.proto.collector.trace.v1.TraceService': 'ExportTraceServiceRequest',
  'opentelemetry.proto.collector.metrics.v1.MetricsService': 'ExportMetricsServiceRequest',
  'opentelemetry.proto.collector.logs.v1.LogsService': 'ExportLogsServiceRequest',
} as const;

export interface OtlpGrpcSink {
  readonly url: string;
  readonly spans: SinkSpan[];
  readonly metrics: SinkMetric[];
  readonly logs: SinkLog[];
  readonly metadata: Grpc.Metadata[];
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;
  close(): Promise<void>;
}

export async function startOtlpGrpcSink(): Promise<OtlpGrpcSink> {
  // The gRPC exporter's own dependency; tests reach it the same way the SDK does.
  const grpc = require('@grpc/grpc-js') as typeof Grpc;
  const spans: SinkSpan[] = [];
  const metrics: SinkMetric[] = [];
  const logs: SinkLog[] = [];
  const metadata: Grpc.Metadata[] = [];
  const server = new grpc.Server();
  const identity = (b: Buffer) => b;
  for (const [service, message] of Object.entries(SERVICES)) {
    const definition = {
      Export: {
        path: `/${service}/Export`,
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    };
    server.addService(definition as unknown as Grpc.ServiceDefinition, {
      Export: (call: Grpc.ServerUnaryCall<Buffer, Buffer>, callback: Grpc.sendUnaryData<Buffer>) => {
        try {
          const batch = parseRequest(message, 'protobuf', call.request);
          spans.push(...batch.spans);
          metrics.push(...batch.metrics);
          logs.push(...batch.logs);
          metadata.push(call.metadata);
          callback(null, Buffer.alloc(0));
        } catch (err) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: String(err) }, null);
        }
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    logs,
    metadata,
    waitFor: (probe, timeoutMs = 10_000) => waitFor(probe, timeoutMs, 'gRPC sink', () => `spans ${spans.length}, metrics ${metrics.length}`),
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
