import type { ResolvedConfig, Signal } from '../config/resolve';
import type { Env } from '../config/variables';
import type { Finding } from './findings';

const GRPC_PORT = '4317';
const HTTP_PORT = '4318';
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);


function portOf(url: string): string {
  try {
    return new URL(url).port;
  } catch {
    return '';
  }
}

/** Configurations that parse but cannot work, each seen often enough to name; `exporting`: the OTLP signals that would export. */
export function knownMistakes(config: ResolvedConfig, env: Env, exporting: readonly Signal[]): Finding[] {
  const findings: Finding[] = [];
  for (const signal of exporting) {
    const otlp = config[signal].otlp;
    const port = portOf(otlp.endpoint);
    if (otlp.protocol !== 'grpc' && port === GRPC_PORT) {
      findings.push({
        level: 'error',
        subject: `otlp ${signal}`,
        message: `${otlp.endpoint} is the OTLP/gRPC port (4317) but the protocol is ${otlp.protocol}: use port 4318, or OTEL_EXPORTER_OTLP_PROTOCOL=grpc`,
      });
    } else if (otlp.protocol === 'grpc' && port === HTTP_PORT) {
      findings.push({
        level: 'error',
        subject: `otlp ${signal}`,
        message: `${otlp.endpoint} is the OTLP/HTTP port (4318) but the protocol is grpc: use port 4317, or OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`,
      });
    }
  }
  const appPort = Number(env.PORT);
  if (config.health.port !== 0 && Number.isInteger(appPort) && appPort === config.health.port) {
    findings.push({
      level: 'error',
      subject: 'INNATURAL_HEALTH_PORT',
      message: `the health server's port (${config.health.port}) is also the app's PORT: one of them cannot listen; pick another INNATURAL_HEALTH_PORT, or INNATURAL_APP_ROUTES=true to serve the health paths on the app's port`,
    });
  }
  if (env.KUBERNETES_SERVICE_HOST !== undefined && LOOPBACK.has(config.health.host)) {
    findings.push({
      level: 'error',
      subject: 'INNATURAL_HEALTH_HOST',
      message: `inside Kubernetes the health server and /metrics listen on ${config.health.host}: the kubelet's probes and Prometheus cannot reach it; use 0.0.0.0`,
    });
  }
  if (!config.skipLaunchers && /(^|\s)(--require|-r|--import)[= ]\S*@innatural\/otel\/register/.test(env.NODE_OPTIONS ?? '')) {
    findings.push({
      level: 'warn',
      subject: 'INNATURAL_SKIP_LAUNCHERS',
      message:
        'false with the preload in NODE_OPTIONS: npm, npx, yarn, pnpm, corepack and PM2 start it in their own process too, and take the health port before the app they start (which then serves no /metrics)',
    });
  }
  return findings;
}
