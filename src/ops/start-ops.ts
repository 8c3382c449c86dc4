import type { IncomingMessage, ServerResponse } from 'node:http';
import { pm2Instance } from '../cluster/pm2';
import { ClusterPrimary } from '../cluster/primary';
import { announcePrimary, clusterRole, type ClusterRole } from '../cluster/role';
import { answerPrimary } from '../cluster/worker';
import type { ResolvedConfig } from '../config/resolve';
import type { Logger } from '../logging/logger';
import type { CatalogMetrics } from '../metrics/families';
import type { Registry } from '../metrics/registry';
import type { AppInfo } from '../modules';
import { setHealthChecks } from '../health/api';
import { HealthChecks } from '../health/checks/registry';
import { sinkRedactor } from '../redaction/policy';
import { MetricsHistory } from './history';
import { reportHealthMetrics } from './health-metrics';
import type { CheckFn } from '../health/checks/types';
import { ShutdownState } from '../health/shutdown-state';
import type { NotConfigured } from '../health/report';
import type { InstrumentationStates } from '../health/instrumentation-states';
import type { HealthDeps } from './routes';
import { serveHealth, startHealthServer, type ListenOptions } from './server';
import { CpuSampler } from '../health/system';
import { healthViews } from './views';

export interface HealthOptions {
  readonly config: ResolvedConfig;
  readonly app: AppInfo;
  readonly logger: Logger;
  readonly registry: Registry | undefined;
  readonly catalog: CatalogMetrics | undefined;
  /** This process's instrumentations: what each traces, for /api/health and the summary. */
  readonly instrumentations?: () => InstrumentationStates;
  /** Detected when absent. */
  readonly role?: ClusterRole;
}

export interface Health {
  readonly shutdown: ShutdownState;
  readonly stop: () => Promise<void>;
}

interface BuiltInCheck {
  readonly name: string;
  readonly critical: boolean;
  /** The check, or undefined when its variable is not set; its module is required only then. */
  create(config: ResolvedConfig, app: AppInfo): CheckFn | undefined;
  /** What /api/health says of it when not configured. */
  notConfigured(config: ResolvedConfig): NotConfigured;
}

/** Database and AI are critical (unhealthy, 503), Redis is not (degraded), as in the seed. */
const BUILT_IN_CHECKS: readonly BuiltInCheck[] = [
  {
    name: 'database',
    critical: true,
    create: ({ health: { databaseUrl } }, app) =>
      databaseUrl ? (require('../health/checks/postgres') as typeof import('../health/checks/postgres')).postgresCheck(databaseUrl, app.searchDirs) : undefined,
    notConfigured: () => ({ status: 'not_configured', connected: false, message: 'DATABASE_URL is not set' }),
  },
  {
    name: 'redis',
    critical: false,
    create: ({ health: { redisUrl } }) => (redisUrl ? (require('../health/checks/redis') as typeof import('../health/checks/redis')).redisCheck(redisUrl) : undefined),
    notConfigured: () => ({ status: 'not_configured', connected: false, message: 'REDIS_URL is not set' }),
  },
  {
    name: 'ai',
    critical: true,
    create: ({ health: { ai } }) => {
      if (!ai.keyPresent && !ai.required) return undefined;
      const result = ai.keyPresent
        ? ({ status: 'healthy', configured: true, message: 'API key configured' } as const)
        : ({ status: 'unhealthy', configured: false, message: `${ai.keyVariable} is not set` } as const);
      return () => Promise.resolve(result);
    },
    notConfigured: ({ health: { ai } }) => ({ status: 'not_configured', configured: false, message: `${ai.keyVariable} is not set` }),
  },
];

function builtInChecks(config: ResolvedConfig, app: AppInfo, checks: HealthChecks): Record<string, NotConfigured> {
  const notConfigured: Record<string, NotConfigured> = {};
  for (const builtIn of BUILT_IN_CHECKS) {
    const check = builtIn.create(config, app);
    if (check) checks.register(builtIn.name, check, { critical: builtIn.critical });
    else notConfigured[builtIn.name] = builtIn.notConfigured(config);
  }
  return notConfigured;
}

/** A worker whose primary runs without the preload: what its health server covers, and what to do for more. */
function loneWorkerLine(id: string, port: number): string {
  // PM2's cluster mode: the daemon is the primary, and it runs every app it manages: it must not be ours.
  const pm2 = pm2Instance();
  const instance = pm2 && (pm2.env.NODE_APP_INSTANCE ?? '?');
  if (instance !== undefined) {
    return (
      `PM2 cluster mode, instance ${instance}: its health server answers for this instance alone, on port ${port}. ` +
      `Give each instance its own port (increment_var: 'INNATURAL_HEALTH_PORT' in the ecosystem file) and scrape each; with one port, only the first instance serves it`
    );
  }
  return (
    `Cluster worker ${id}: its primary does not run @innatural/otel, so this worker's health server, if it gets port ${port}, answers for this worker alone; ` +
    `load the preload in the primary too for one health server for the whole group`
  );
}

/**
 * A worker whose primary runs the preload binds nothing: the primary's health server asks it
 * for its metrics and its own checks (those its code registers; the built-in ones run once,
 * in the primary). INNATURAL_APP_ROUTES is not honoured here: on the app's port, shared by
 * every worker, each answer would describe one worker picked by the balancer.
 */
function startWorkerHealth({ config, logger, registry, instrumentations }: HealthOptions, id: string): Health {
  const checks = new HealthChecks(config.health.cacheMs, config.health.checkTimeoutMs, Date.now, sinkRedactor(config.redaction, 'health'));
  const shutdown = new ShutdownState();
  setHealthChecks(checks);
  const stopAnswering = answerPrimary({ registry, checks, shutdown, logger, instrumentations });
  logger.debug(`Cluster worker ${id}: the primary (pid ${process.ppid}) serves health and metrics for the group; this worker binds no port`);
  if (config.health.appRoutes) {
    logger.info(`INNATURAL_APP_ROUTES does not apply in cluster worker ${id}: the primary's health server (port ${config.health.port}) answers for the whole group`);
  }
  return {
    shutdown,
    stop: async () => {
      stopAnswering();
      setHealthChecks(undefined);
    },
  };
}

/** The health server, its checks, and (INNATURAL_APP_ROUTES) the same paths on the app's servers. */
export function startOps(options: HealthOptions): Health {
  const { config, app, logger, registry, catalog, instrumentations } = options;
  const role = options.role ?? clusterRole();
  if (role.kind === 'worker') return startWorkerHealth(options, role.id);
  const checks = new HealthChecks(config.health.cacheMs, config.health.checkTimeoutMs, Date.now, sinkRedactor(config.redaction, 'health'));
  let primary: ClusterPrimary | undefined;
  let listen: ListenOptions = {};
  if (role.kind === 'process') {
    // Before the app's main module runs, so every worker it forks inherits it.
    announcePrimary();
    primary = new ClusterPrimary({ logger, prefix: config.metrics.prefix, cardinalityLimit: config.metrics.cardinalityLimit });
  } else {
    logger.info(loneWorkerLine(role.id, config.health.port));
    listen = { exclusive: true, takenHint: ` (cluster worker ${role.id}: another worker of the group has it, see the line above)` };
  }
  const views = healthViews({ registry, catalog, checks, primary, instrumentations });
  const history = catalog ? new MetricsHistory(catalog, config.health.historyIntervalMs, 180, views.group) : undefined;
  history?.start();
  const shutdown = new ShutdownState();
  const deps: HealthDeps = {
    views,
    cpu: new CpuSampler(),
    shutdown,
    registry: config.metrics.exporters.includes('prometheus') ? registry : undefined,
    catalog,
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
  // By then an app that forks at start has its workers, and loaded node:cluster to do it.
  setTimeout(() => {
    checks.prepare();
    primary?.attach();
  }, 0).unref();
  if (registry && catalog) reportHealthMetrics(registry, catalog, views.health, shutdown);
  const serve = (req: IncomingMessage, res: ServerResponse) => serveHealth(req, res, deps, logger);
  const server = startHealthServer(config.health.host, config.health.port, deps, logger, listen);
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
