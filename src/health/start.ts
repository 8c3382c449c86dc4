import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedConfig } from '../config/resolve';
import type { Logger } from '../logging/logger';
import type { CatalogMetrics } from '../metrics/catalog-metrics';
import type { Registry } from '../metrics/registry';
import type { AppInfo } from '../modules';
import { setHealthChecks } from './api';
import { HealthChecks } from './checks/registry';
import { sinkRedactor } from '../redaction/policy';
import { MetricsHistory } from './history';
import { reportHealthMetrics } from './metrics';
import type { CheckFn } from './checks/types';
import { ShutdownState } from './lifecycle';
import type { NotConfigured } from './report';
import type { HealthDeps } from './routes';
import { serveHealth, startHealthServer } from './server';
import { CpuSampler } from './system';

export interface HealthOptions {
  readonly config: ResolvedConfig;
  readonly app: AppInfo;
  readonly logger: Logger;
  readonly registry: Registry | undefined;
  readonly catalog: CatalogMetrics | undefined;
}

export interface Health {
  readonly shutdown: ShutdownState;
  readonly stop: () => Promise<void>;
}

/** Database and AI are critical (unhealthy, 503), Redis is not (degraded), as in the seed. */
function builtInChecks(config: ResolvedConfig, app: AppInfo, checks: HealthChecks): Record<string, NotConfigured> {
  const { databaseUrl, redisUrl, ai } = config.health;
  const notConfigured: Record<string, NotConfigured> = {};
  if (databaseUrl) {
    const { postgresCheck } = require('./checks/postgres') as typeof import('./checks/postgres');
    checks.register('database', postgresCheck(databaseUrl, app.searchDirs), { critical: true });
  } else {
    notConfigured.database = { status: 'not_configured', connected: false, message: 'DATABASE_URL is not set' };
  }
  if (redisUrl) {
    const { redisCheck } = require('./checks/redis') as typeof import('./checks/redis');
    checks.register('redis', redisCheck(redisUrl), { critical: false });
  } else {
    notConfigured.redis = { status: 'not_configured', connected: false, message: 'REDIS_URL is not set' };
  }
  if (ai.keyPresent || ai.required) {
    const result = ai.keyPresent
      ? ({ status: 'healthy', configured: true, message: 'API key configured' } as const)
      : ({ status: 'unhealthy', configured: false, message: `${ai.keyVariable} is not set` } as const);
    const check: CheckFn = () => Promise.resolve(result);
    checks.register('ai', check, { critical: true });
  } else {
    notConfigured.ai = { status: 'not_configured', configured: false, message: `${ai.keyVariable} is not set` };
  }
  return notConfigured;
}

/** The health server, its checks, and (INNATURAL_APP_ROUTES) the same paths on the app's servers. */
export function startHealth({ config, app, logger, registry, catalog }: HealthOptions): Health {
  const checks = new HealthChecks(config.health.cacheMs, config.health.checkTimeoutMs, Date.now, sinkRedactor(config.redaction, 'health'));
  const history = catalog ? new MetricsHistory(catalog, config.health.historyIntervalMs) : undefined;
  history?.start();
  const shutdown = new ShutdownState();
  const deps: HealthDeps = {
    checks,
    cpu: new CpuSampler(),
    shutdown,
    registry: config.metrics.exporters.includes('prometheus') ? registry : undefined,
    catalog,
    sample: () => registry?.collect() ?? Promise.resolve(),
    token: config.health.metricsToken,
    startedAtMs: Date.now() - Math.round(process.uptime() * 1000),
    version: app.version ?? 'unknown',
    environment: config.environment ?? 'development',
    notConfigured: builtInChecks(config, app, checks),
    history,
  };
  setHealthChecks(checks);
  // After the app's main module has run (its own require of pg comes first and is patched),
  // before probes and traffic: the driver's load blocks the event loop for tens of ms.
  setTimeout(() => checks.prepare(), 0).unref();
  if (registry && catalog) reportHealthMetrics(registry, catalog, checks, shutdown);
  const serve = (req: IncomingMessage, res: ServerResponse) => serveHealth(req, res, deps, logger);
  const server = startHealthServer(config.health.host, config.health.port, deps, logger);
  // Required only when on: it patches https too, and loading https costs start-up for nothing otherwise.
  const removeAppRoutes = config.health.appRoutes
    ? (require('./app-routes') as typeof import('./app-routes')).installAppRoutes(serve)
    : () => {};
  return {
    shutdown,
    stop: async () => {
      history?.stop();
      removeAppRoutes();
      setHealthChecks(undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
