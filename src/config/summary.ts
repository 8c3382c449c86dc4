import type { OtlpConfig, ResolvedConfig } from './resolve';
import { REDACTED, redactHeaderValues, redactUrl } from '../redaction/policy';

function otlp(config: OtlpConfig) {
  return {
    protocol: config.protocol,
    endpoint: redactUrl(config.endpoint),
    headers: redactHeaderValues(config.headers),
    timeoutMs: config.timeoutMs,
    compression: config.compression,
  };
}

/** The effective configuration as it may be printed: every secret replaced, nothing taken from raw env. */
export function summarizeConfig(config: ResolvedConfig) {
  return {
    traces: {
      exporters: config.traces.exporters,
      ...(config.traces.exporters.includes('otlp') ? { otlp: otlp(config.traces.otlp) } : {}),
      sampler: config.traces.sampler,
      ...(config.traces.sampler.endsWith('traceidratio') ? { samplerRatio: config.traces.samplerRatio } : {}),
      maxQueueSize: config.traces.batch.maxQueueSize,
    },
    metrics: {
      exporters: config.metrics.exporters,
      ...(config.metrics.exporters.includes('otlp') ? { otlp: otlp(config.metrics.otlp) } : {}),
      exportIntervalMs: config.metrics.exportIntervalMs,
    },
    logs: {
      exporters: config.logs.exporters,
      ...(config.logs.exporters.includes('otlp') ? { otlp: otlp(config.logs.otlp) } : {}),
    },
    health: {
      host: config.health.host,
      port: config.health.port,
      appRoutes: config.health.appRoutes,
      metricsToken: config.health.metricsToken === undefined ? 'none' : REDACTED,
      database: config.health.databaseUrl === undefined ? 'not configured' : redactUrl(config.health.databaseUrl),
      redis: config.health.redisUrl === undefined ? 'not configured' : redactUrl(config.health.redisUrl),
      aiKey: `${config.health.ai.keyVariable} ${config.health.ai.keyPresent ? 'set' : 'not set'}`,
    },
    http: { responseTimeHeader: config.http.responseTimeHeader ?? 'off', slowRequestMs: config.http.slowRequestMs },
    propagators: config.propagators,
    resourceDetectors: config.resourceDetectors,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    exitTimeoutMs: config.exitTimeoutMs,
  };
}
