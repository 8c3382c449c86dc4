import { randomBytes } from 'node:crypto';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { OtlpConfig, ResolvedConfig, Signal } from '../config/resolve';
import type { Resource } from '@opentelemetry/resources';
import { createOtlpExporter } from '../export/otlp';
import { untraced } from '../export/untraced';
import { HealthChecks } from '../health/checks/registry';
import { describeError } from '../logging/logger';
import { redactUrl } from '../redaction/policy';
import type { Finding } from './findings';

interface ExportResult {
  code: number;
  error?: Error;
}
interface AnyExporter {
  export(items: unknown, done: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** Exports `items` with the exporter the preload would build, bounded by `timeoutMs`. */
async function exportOnce(signal: Signal, otlp: OtlpConfig, items: unknown, timeoutMs: number): Promise<{ ok: boolean; ms: number; message: string }> {
  const exporter = createOtlpExporter<AnyExporter>(signal, { ...otlp, timeoutMs });
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const result = await Promise.race([
      new Promise<ExportResult>((resolve) => exporter.export(items, resolve)),
      new Promise<ExportResult>((resolve) => {
        timer = setTimeout(() => resolve({ code: 1, error: new Error(`no answer within ${timeoutMs} ms`) }), timeoutMs + 1000);
      }),
    ]);
    const ms = Math.round(performance.now() - started);
    return result.code === 0 ? { ok: true, ms, message: 'accepted' } : { ok: false, ms, message: describeError(result.error ?? 'export failed') };
  } finally {
    clearTimeout(timer);
    await exporter.shutdown().catch(() => {});
  }
}

const EMPTY: Record<Signal, () => unknown> = {
  traces: () => [],
  logs: () => [],
  metrics: () => {
    const { emptyResource } = require('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
    return { resource: emptyResource(), scopeMetrics: [] };
  },
};

/** One real, empty export per signal that would export: the endpoint, protocol, headers and TLS as the preload uses them. */
export async function checkOtlp(config: ResolvedConfig, signals: readonly Signal[], timeoutMs: number): Promise<Finding[]> {
  return Promise.all(
    signals.map(async (signal) => {
      const otlp = config[signal].otlp;
      const where = `${redactUrl(otlp.endpoint)} (${otlp.protocol})`;
      const r = await exportOnce(signal, otlp, EMPTY[signal](), timeoutMs);
      return r.ok
        ? { level: 'ok' as const, subject: `otlp ${signal}`, message: `${where} accepted an empty export in ${r.ms} ms` }
        : { level: 'error' as const, subject: `otlp ${signal}`, message: `${where}: ${r.message}` };
    }),
  );
}

/** DATABASE_URL and REDIS_URL, with the health server's own checks and timeout. */
export async function checkDependencies(config: ResolvedConfig, searchDirs: readonly string[], timeoutMs: number): Promise<Finding[]> {
  const checks = new HealthChecks(0, timeoutMs);
  const subjects: Record<string, string> = {};
  if (config.health.databaseUrl) {
    const { postgresCheck } = require('../health/checks/postgres') as typeof import('../health/checks/postgres');
    checks.register('database', postgresCheck(config.health.databaseUrl, searchDirs, { timeoutMs }));
    subjects.database = `DATABASE_URL ${redactUrl(config.health.databaseUrl)}`;
  }
  if (config.health.redisUrl) {
    const { redisCheck } = require('../health/checks/redis') as typeof import('../health/checks/redis');
    checks.register('redis', redisCheck(config.health.redisUrl, { timeoutMs }));
    subjects.redis = `REDIS_URL ${redactUrl(config.health.redisUrl)}`;
  }
  if (checks.size === 0) return [];
  const outcomes = await checks.results();
  return [...outcomes].map(([name, { result }]) => ({
    level: result.status === 'healthy' ? 'ok' : 'error',
    subject: subjects[name]!,
    message: `${result.status}${result.responseTime !== undefined ? ` in ${result.responseTime} ms` : ''}${result.message ? `: ${result.message}` : ''}`,
  }));
}

interface Dsn {
  readonly envelopeUrl: string;
  readonly dsn: string;
}

function parseDsn(dsn: string): Dsn {
  const url = new URL(dsn);
  const segments = url.pathname.split('/').filter(Boolean);
  const project = segments.pop();
  if (!url.username || !project) throw new Error('expected a DSN like https://<key>@<host>/<project>');
  const prefix = segments.length > 0 ? `/${segments.join('/')}` : '';
  return { dsn, envelopeUrl: `${url.protocol}//${url.host}${prefix}/api/${project}/envelope/?sentry_key=${encodeURIComponent(url.username)}&sentry_version=7` };
}

async function postEnvelope(dsn: Dsn, items: ReadonlyArray<[object, object]>, timeoutMs: number, eventId?: string): Promise<Response> {
  const header = { ...(eventId ? { event_id: eventId } : {}), dsn: dsn.dsn, sent_at: new Date().toISOString() };
  const body = [JSON.stringify(header), ...items.flatMap(([h, p]) => [JSON.stringify(h), JSON.stringify(p)])].join('\n') + '\n';
  // Under NODE_OPTIONS=--require .../register, doctor is traced like any app: its probes must not be.
  return untraced(() =>
    fetch(dsn.envelopeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-sentry-envelope' },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    }),
  );
}

function sentryFailure(subject: string, err: unknown, timeoutMs: number): Finding {
  const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
  return { level: 'error', subject, message: timedOut ? `no answer within ${timeoutMs} ms` : describeError((err as { cause?: unknown })?.cause ?? err) };
}

/** An empty envelope: reachability and the DSN's key, without creating anything in Sentry. */
export async function checkSentry(config: ResolvedConfig, timeoutMs: number): Promise<Finding[]> {
  if (!config.sentry) return [];
  const subject = `SENTRY_DSN ${redactUrl(config.sentry.dsn)}`;
  try {
    const res = await postEnvelope(parseDsn(config.sentry.dsn), [], timeoutMs);
    await res.arrayBuffer();
    if (res.ok) return [{ level: 'ok', subject, message: `ingestion answered ${res.status}` }];
    if (res.status === 401 || res.status === 403) return [{ level: 'error', subject, message: `ingestion refused the DSN's key (${res.status})` }];
    return [{ level: 'warn', subject, message: `ingestion answered ${res.status}` }];
  } catch (err) {
    return [sentryFailure(subject, err, timeoutMs)];
  }
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** The seed's /test-sentry, without the app: one error event. Its id is in the message. */
export async function sendSentryTestEvent(config: ResolvedConfig, timeoutMs: number): Promise<Finding> {
  const subject = 'sentry test event';
  if (!config.sentry) return { level: 'error', subject, message: 'SENTRY_DSN is not set' };
  const eventId = hex(16);
  const event = {
    event_id: eventId,
    timestamp: Date.now() / 1000,
    platform: 'node',
    level: 'error',
    logger: 'innatural-otel.doctor',
    environment: config.sentry.environment ?? config.environment ?? 'production',
    ...(config.sentry.release ? { release: config.sentry.release } : {}),
    message: { formatted: 'innatural-otel doctor: test event' },
    exception: { values: [{ type: 'Error', value: 'innatural-otel doctor: test event', mechanism: { type: 'generic', handled: true } }] },
    tags: { source: 'innatural-otel-doctor' },
  };
  try {
    const res = await postEnvelope(parseDsn(config.sentry.dsn), [[{ type: 'event' }, event]], timeoutMs, eventId);
    await res.arrayBuffer();
    return res.ok
      ? { level: 'ok', subject, message: `sent, event id ${eventId}` }
      : { level: 'error', subject, message: `ingestion answered ${res.status}` };
  } catch (err) {
    return sentryFailure(subject, err, timeoutMs);
  }
}

/** One span over the configured OTLP traces exporter, under the app's resource. Its trace id is in the message. */
export async function sendTestSpan(config: ResolvedConfig, resource: Resource, timeoutMs: number): Promise<Finding> {
  const subject = 'otlp test span';
  if (!config.traces.exporters.includes('otlp')) return { level: 'error', subject, message: 'OTEL_TRACES_EXPORTER does not include otlp' };
  const { TracerProvider } = require('@opentelemetry/sdk-trace') as typeof import('@opentelemetry/sdk-trace');
  const provider = new TracerProvider({ resource });
  const span = provider.getTracer('@innatural/otel-doctor').startSpan('innatural-otel doctor test span', { attributes: { 'innatural.doctor': true } });
  span.end();
  // The SDK's span, once ended, is the ReadableSpan exporters take.
  const finished = [span as unknown as ReadableSpan];
  const r = await exportOnce('traces', config.traces.otlp, finished, timeoutMs);
  const traceId = span.spanContext().traceId;
  return r.ok
    ? { level: 'ok', subject, message: `sent to ${redactUrl(config.traces.otlp.endpoint)}, trace id ${traceId}` }
    : { level: 'error', subject, message: `${redactUrl(config.traces.otlp.endpoint)}: ${r.message}` };
}
