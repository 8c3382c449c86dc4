import type { SpanExporter } from '@opentelemetry/sdk-trace';
import { spanExporterFrom, spanExporterParts } from './otlp';
import { untracedExports } from './untraced';

export interface SentryOtlpEndpoint {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The stock exporter's defaults, spelled out: nothing here may come from OTEL_EXPORTER_OTLP_*. */
const TIMEOUT_MS = 10_000;
const CONCURRENCY_LIMIT = 4;

/**
 * Spans to Sentry's OTLP endpoint for the DSN, always as http/protobuf, configured by
 * that endpoint alone. The stock exporter (and its parts' legacy options) fills every
 * option from the `OTEL_EXPORTER_OTLP_*` variables: the collector's bearer token, client
 * certificate and key, compression would go to Sentry. So the configuration is complete
 * here and the environment is never read. undefined when this release keeps the parts
 * elsewhere (the OTLP path falls back to the stock package, which this one cannot, as it
 * reads the environment): spans then go to OTLP only, not with another backend's credentials.
 */
export function sentrySpanExporter(endpoint: SentryOtlpEndpoint): SpanExporter | undefined {
  const parts = spanExporterParts();
  if (!parts) return undefined;
  const headers = { ...endpoint.headers, 'Content-Type': 'application/x-protobuf' };
  return untracedExports(
    spanExporterFrom<SpanExporter>(parts, {
      url: endpoint.url,
      headers: () => Promise.resolve(headers),
      timeoutMillis: TIMEOUT_MS,
      concurrencyLimit: CONCURRENCY_LIMIT,
      compression: 'none',
      agentFactory: parts.httpAgentFactoryFromOptions({ keepAlive: true }),
    }),
  );
}
