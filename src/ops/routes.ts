import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as zlibConstants, gzip } from 'node:zlib';
import type { CatalogMetrics } from '../metrics/families';
import { CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE, serialize } from '../metrics/prometheus';
import type { Registry } from '../metrics/registry';
import type { ShutdownState } from '../health/shutdown-state';
import { pathOf } from '../http/route';
import { asset, ASSET_PATHS } from './assets';
import type { MetricsHistory } from './history';
import { healthReport, type NotConfigured } from '../health/report';
import { metricsSummary } from './metrics-summary';
import { SLOWEST_WINDOW_MS, slowestRequests } from './slowest-requests';
import { systemReport, type CpuSampler } from '../health/system';
import { acceptsGzip, scrapeFormat } from './negotiate';
import type { Views } from './views';

export interface HealthDeps {
  /** This process's checks and metrics, or its cluster's (see healthViews). */
  readonly views: Views;
  readonly cpu: CpuSampler;
  readonly shutdown: ShutdownState;
  /** /metrics: present when the Prometheus exporter is on. */
  readonly registry: Registry | undefined;
  /** /api/metrics/summary: present when metrics are on. */
  readonly catalog: CatalogMetrics | undefined;
  readonly token: string | undefined;
  readonly startedAtMs: number;
  readonly version: string;
  readonly environment: string;
  readonly notConfigured: Readonly<Record<string, NotConfigured>>;
  /** /api/metrics/history for the dashboard: present when metrics are on. */
  readonly history: MetricsHistory | undefined;
}

type Handler = (req: IncomingMessage, res: ServerResponse, deps: HealthDeps) => Promise<void> | void;

interface Route {
  readonly handler: Handler;
  /** Behind INNATURAL_METRICS_TOKEN; probes stay open. */
  readonly protected: boolean;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/api/health': {
    protected: false,
    handler: async (_req, res, deps) => {
      const started = performance.now();
      const view = await deps.views.health();
      const report = healthReport({
        outcomes: view.outcomes,
        system: systemReport(deps.cpu),
        startedAtMs: deps.startedAtMs,
        nowMs: Date.now(),
        version: deps.version,
        environment: deps.environment,
        responseTimeMs: Math.round(performance.now() - started),
        notConfigured: deps.notConfigured,
        instrumentations: deps.views.instrumentations(),
      });
      if (!view.workers) return json(res, report.status === 'unhealthy' ? 503 : 200, report);
      // Not ready with every check passing: no worker can serve. Some not ready: the group serves with fewer.
      const status = !view.ready && view.failing.length === 0 ? 'unhealthy' : view.degraded && report.status === 'healthy' ? 'degraded' : report.status;
      json(res, status === 'unhealthy' ? 503 : 200, { ...report, status, cluster: { workers: view.workers } });
    },
  },
  '/api/health/live': {
    protected: false,
    handler: (_req, res) => json(res, 200, { status: 'ok', timestamp: new Date().toISOString() }),
  },
  '/api/health/ready': {
    protected: false,
    handler: async (_req, res, deps) => {
      const timestamp = () => new Date().toISOString();
      if (deps.shutdown.shuttingDown) return json(res, 503, { status: 'not_ready', reason: 'shutting down', timestamp: timestamp() });
      const view = await deps.views.health();
      const workers = view.workers && { ready: view.workers.filter((w) => w.ready).length, running: view.workers.length };
      if (view.ready) return json(res, 200, { status: 'ready', timestamp: timestamp(), ...(workers && { workers }) });
      json(res, 503, { status: 'not_ready', reason: view.reason, failing: view.failing, timestamp: timestamp(), ...(workers && { workers }) });
    },
  },
  '/metrics': {
    protected: true,
    handler: async (req, res, deps) => {
      if (!deps.registry || !deps.views.metrics) return json(res, 404, { error: 'not found', message: 'the Prometheus exporter is off (OTEL_METRICS_EXPORTER)' });
      const format = scrapeFormat(req.headers.accept);
      const body = serialize((await deps.views.metrics()).families, format);
      const headers: Record<string, string> = {
        'Content-Type': format === 'openmetrics' ? OPENMETRICS_CONTENT_TYPE : CONTENT_TYPE,
        'Cache-Control': 'no-store',
        Vary: 'Accept, Accept-Encoding',
      };
      if (!acceptsGzip(req.headers['accept-encoding'])) return void res.writeHead(200, headers).end(body);
      // Asynchronous, off the event loop's thread: a scrape must not hold up the app's requests.
      // Fastest level: metrics text compresses ~20x even so, and the CPU is the app's.
      const zipped = await new Promise<Buffer | undefined>((resolve) =>
        gzip(body, { level: zlibConstants.Z_BEST_SPEED }, (err, out) => resolve(err ? undefined : out)),
      );
      if (!zipped) return void res.writeHead(200, headers).end(body);
      res.writeHead(200, { ...headers, 'Content-Encoding': 'gzip' }).end(zipped);
    },
  },
  '/api/metrics/history': {
    protected: true,
    handler: (_req, res, deps) => {
      if (!deps.history) return json(res, 404, { error: 'not found', message: 'metrics are off (OTEL_METRICS_EXPORTER=none)' });
      json(res, 200, { intervalMs: deps.history.intervalMs, points: deps.history.points() });
    },
  },
  ...Object.fromEntries(
    ASSET_PATHS.map((path) => [
      path,
      {
        // The page holds no data: it asks the protected endpoints, with the token the user gives it.
        protected: false,
        handler: (_req: IncomingMessage, res: ServerResponse) => {
          const found = asset(path)!;
          res.writeHead(200, { 'Content-Type': found.contentType, 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }).end(found.body);
        },
      } satisfies Route,
    ]),
  ),
  '/api/metrics/summary': {
    protected: true,
    handler: async (_req, res, deps) => {
      if (!deps.catalog || !deps.views.metrics) return json(res, 404, { error: 'not found', message: 'metrics are off (OTEL_METRICS_EXPORTER=none)' });
      const { catalog } = await deps.views.metrics();
      json(res, 200, { ...metricsSummary(catalog), instrumentations: deps.views.instrumentations() });
    },
  },
  /** The dashboard's "slowest recent requests", from the exemplars (empty without tracing or with INNATURAL_METRICS_EXEMPLARS=false). */
  '/api/metrics/slowest': {
    protected: true,
    handler: async (_req, res, deps) => {
      if (!deps.catalog || !deps.views.metrics) return json(res, 404, { error: 'not found', message: 'metrics are off (OTEL_METRICS_EXPORTER=none)' });
      json(res, 200, { windowMs: SLOWEST_WINDOW_MS, requests: slowestRequests((await deps.views.metrics()).catalog) });
    },
  },
};

export const HEALTH_PATHS: readonly string[] = Object.keys(ROUTES);

export function isHealthPath(url: string | undefined): boolean {
  return Object.hasOwn(ROUTES, pathOf(url));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header);
  // Hashes compare in constant time whatever the lengths.
  return match !== null && timingSafeEqual(digest(match[1]!.trim()), digest(token));
}

/** Answers one request for our paths (404 JSON for any other path, 405 for a method other than GET/HEAD). */
export async function handleHealthRequest(req: IncomingMessage, res: ServerResponse, deps: HealthDeps): Promise<void> {
  const path = pathOf(req.url);
  const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
  if (!route) return json(res, 404, { error: 'not found', path: path.slice(0, 200) });
  if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
  if (route.protected && deps.token !== undefined && !authorized(req, deps.token)) {
    return json(res, 401, { error: 'unauthorized' }, { 'WWW-Authenticate': 'Bearer realm="metrics"' });
  }
  await route.handler(req, res, deps);
}
