import * as ourApi from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { Resource } from '@opentelemetry/resources';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import type { ResolvedConfig } from './config/resolve';
import { summarizeConfig } from './config/summary';
import { registerEsmHook } from './esm/hook';
import { ExpressErrors } from './errors/express';
import { errorClassName } from './errors/name';
import { startErrors } from './errors/start';
import { isHealthPath } from './health/routes';
import { startHealth } from './health/start';
import { installRequestTiming, type FinishListener } from './http/requests';
import { installResponseTime } from './http/response-time';
import { slowRequestListener } from './http/slow-requests';
import { CATALOG, type InstrumentationName } from './config/instrumentations';
import { ExpressTemplates } from './instrumentations/express-templates';
import { deferUntilRequired } from './instrumentations/lazy';
import { esmTargets, isCore, loadInstrumentation, missingInstrumentation, planInstrumentations } from './instrumentations/load';
import { Activity, installBeforeExitFlush } from './lifecycle/before-exit';
import { installCrashHandler } from './lifecycle/crash';
import { flushUntilQuiet, flushWithin, type FlushTask } from './lifecycle/flush';
import { installSignalHandlers } from './lifecycle/signals';
import { exitWindow } from './export/exit-window';
import { sentrySpanExporter } from './export/sentry-otlp';
import { installDiag } from './logging/diag';
import { describeError, type Logger } from './logging/logger';
import { createLoggerProvider } from './logs/provider';
import { AiLedger } from './metrics/ai-ledger';
import { setMetricsState } from './metrics/api';
import { registerCatalog, type CatalogMetrics } from './metrics/catalog-metrics';
import { httpMetricsListener } from './metrics/http-server';
import { PgPoolGauge } from './metrics/pg-pool';
import { createMeterProvider, createPushReaders } from './metrics/provider';
import { Registry } from './metrics/registry';
import { installRuntimeMetrics } from './metrics/runtime';
import { appInfo, isInstalled } from './modules';
import { findApiCopies, loadRegistrar, planApi, registeredVersion } from './otel-api';
import { RedactingLogProcessor } from './redaction/logs';
import { sinkRedactor } from './redaction/policy';
import { RedactingSpanProcessor } from './redaction/spans';
import { SentryTracePropagator } from './sentry/propagator';

export interface BootOptions {
  /** undefined: decide from the entry script. */
  readonly esm: boolean | undefined;
  readonly mainScript?: string;
  readonly cwd?: string;
}

export interface Running {
  /** Flushes every signal within the shutdown budget; never rejects. */
  flush(keepAlive?: boolean): Promise<void>;
  shutdown(): Promise<void>;
}

const LOGGING_INSTRUMENTATIONS = ['winston', 'pino', 'bunyan'];

interface MetricsPipeline {
  readonly registry: Registry;
  readonly catalog: CatalogMetrics;
  readonly ai: AiLedger;
}

/** The catalog and runtime metrics, recorded in-process; undefined with OTEL_METRICS_EXPORTER=none. */
function startMetrics(config: ResolvedConfig, logger: Logger, undo: Array<() => unknown>): MetricsPipeline | undefined {
  if (config.metrics.exporters.length === 0) return undefined;
  const registry = new Registry(config.metrics.cardinalityLimit);
  const catalog = registerCatalog(registry, config.metrics.prefix);
  undo.push(installRuntimeMetrics(registry));
  const ai = new AiLedger();
  setMetricsState({ metrics: catalog, ai, debug: (m) => logger.debug(m) });
  undo.push(() => setMetricsState(undefined));
  return { registry, catalog, ai };
}

/**
 * Builds the SDK. `undo` collects what was installed so that a failure halfway, or
 * `shutdown()`, takes it down in reverse order.
 */
export function boot(config: ResolvedConfig, logger: Logger, options: BootOptions, undo: Array<() => unknown>): Running {
  const startedAt = performance.now();
  const app = appInfo(options.mainScript, options.cwd);
  // Every global goes through the newest API copy present (the app's may be newer than ours): see otel-api.ts.
  const apiPlan = planApi(findApiCopies(app.searchDirs), registeredVersion(1));
  for (const conflict of apiPlan.conflicts) logger.error(conflict.message);
  const { context, diag, metrics, propagation, trace } = loadRegistrar(apiPlan, ourApi);
  const diagBridge = installDiag(logger, undefined, diag);
  undo.push(diagBridge);

  // Built on first use: detectors read files, and a metrics-only service may never need it.
  let built: Resource | undefined;
  const resource = () => (built ??= (require('./resource') as typeof import('./resource')).buildResource(config, app, (line) => logger.warn(line)));

  const redactor = (sink: Parameters<typeof sinkRedactor>[1]) => sinkRedactor(config.redaction, sink);
  const pipeline = startMetrics(config, logger, undo);
  const errors = startErrors(config, app, logger, redactor('errors'), pipeline?.catalog);
  undo.push(() => errors.stop(config.shutdownTimeoutMs));
  const sentryOtlp = config.sentry?.traces ? errors.sentry?.otlp : undefined;
  const tracing = config.traces.exporters.length > 0 || sentryOtlp !== undefined;

  // Context only matters when spans are exported; without, async hooks would cost for nothing.
  // Tracing modules are required here, not imported: a metrics-only service never loads them.
  let attachContext: ((ctx: Context) => void) | undefined;
  if (tracing) {
    const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks') as typeof import('@opentelemetry/context-async-hooks');
    const { createPropagator } = require('./tracing/propagators') as typeof import('./tracing/propagators');
    const manager = new AsyncLocalStorageContextManager().enable();
    context.setGlobalContextManager(manager);
    // The server spans' request context stays current for the whole connection (see HttpServerSpans).
    attachContext = (ctx) => void manager.attach(ctx);
    undo.push(() => context.disable());
    const sentryBaggage = config.sentry
      ? [new SentryTracePropagator({ environment: config.sentry.environment ?? config.environment, release: config.sentry.release })]
      : [];
    propagation.setGlobalPropagator(createPropagator(config.propagators, sentryBaggage));
    undo.push(() => propagation.disable());
  }

  // With INNATURAL_APP_ROUTES our paths on the app's port are ours, not the app's traffic.
  const notAppTraffic = config.health.appRoutes ? (req: { url?: string }) => isHealthPath(req.url) : () => false;
  const finishListeners: FinishListener[] = [slowRequestListener(config.http.slowRequestMs, logger), errors.listener];
  if (pipeline) finishListeners.push(httpMetricsListener(pipeline.catalog));
  undo.push(installRequestTiming(finishListeners, notAppTraffic));
  undo.push(installResponseTime(config.http.responseTimeHeader, tracing));
  const plan = planInstrumentations(config.instrumentations, app, {
    traces: tracing,
    metrics: pipeline !== undefined,
    logs: config.logs.exporters.length > 0,
  });

  const flushTasks: FlushTask[] = [];
  const activity = new Activity();
  let tracerProvider: BasicTracerProvider | undefined;
  // With tracing, now; in metrics-only mode, when a client instrumentation that feeds metrics loads.
  const ensureTracerProvider = () => {
    if (tracerProvider) return;
    diagBridge.captureSdkErrors();
    const { createTracerProvider } = require('./tracing/provider') as typeof import('./tracing/provider');
    const { MetricsSpanProcessor } = require('./metrics/spans') as typeof import('./metrics/spans');
    const toSentry = sentryOtlp && sentrySpanExporter(sentryOtlp);
    if (sentryOtlp && !toSentry) logger.warn('Sentry span export is unavailable in this SDK release; errors still go to Sentry, spans only to OTEL_TRACES_EXPORTER');
    tracerProvider = createTracerProvider(config, resource(), {
      processors: [new RedactingSpanProcessor(redactor('spans')), activity],
      exporters: toSentry ? [toSentry] : [],
      metrics: pipeline ? new MetricsSpanProcessor(pipeline.catalog, pipeline.ai) : undefined,
    });
    if (!tracerProvider) return;
    const provider = tracerProvider;
    trace.setGlobalTracerProvider(provider);
    flushTasks.push(() => provider.forceFlush());
    undo.push(
      () => provider.shutdown(),
      () => trace.disable(),
    );
  };
  if (tracing) ensureTracerProvider();

  // Called only when a push exporter exists: the producer pulls in sdk-metrics' model.
  const producers = () => {
    if (!pipeline) return [];
    const { RegistryProducer } = require('./metrics/otlp-producer') as typeof import('./metrics/otlp-producer');
    return [new RegistryProducer(pipeline.registry)];
  };
  const readers = createPushReaders(config, producers);
  if (readers.length > 0) diagBridge.captureSdkErrors();
  const meterProvider = readers.length > 0 ? createMeterProvider(resource(), readers) : undefined;
  if (meterProvider) {
    metrics.setGlobalMeterProvider(meterProvider);
    flushTasks.push(() => meterProvider.forceFlush());
    undo.push(
      () => meterProvider.shutdown(),
      () => metrics.disable(),
    );
  }

  // Logs are exported only from logger instrumentations: the provider (sdk-logs and an
  // exporter) is built when the first of them loads, which may be never.
  let sendLogs: boolean | undefined;
  const ensureLoggerProvider = (): boolean => {
    if (sendLogs !== undefined) return sendLogs;
    diagBridge.captureSdkErrors();
    const loggerProvider = createLoggerProvider(config, resource(), [new RedactingLogProcessor(redactor('logs'))]);
    sendLogs = loggerProvider !== undefined;
    if (loggerProvider) {
      const { logs } = require('@opentelemetry/api-logs') as typeof import('@opentelemetry/api-logs');
      logs.setGlobalLoggerProvider(loggerProvider);
      flushTasks.push(() => loggerProvider.forceFlush());
      undo.push(
        () => loggerProvider.shutdown(),
        () => logs.disable(),
      );
    }
    return sendLogs;
  };

  const instrumentations: Instrumentation[] = [];
  const load = (name: InstrumentationName) => {
    if (CATALOG[name].role === 'metrics') ensureTracerProvider();
    const sends = LOGGING_INSTRUMENTATIONS.includes(name) && ensureLoggerProvider();
    instrumentations.push(...loadInstrumentation(name, { config, searchDirs: app.searchDirs, sendLogs: sends, attachContext }, logger));
    // After pg's own: its patch of pg-pool unwraps whatever wrapped `connect` before it.
    if (name === 'pg' && pipeline) {
      const pools = new PgPoolGauge();
      pools.report(pipeline.registry, pipeline.catalog);
      instrumentations.push(pools);
    }
  };
  undo.push(() => instrumentations.forEach((i) => i.disable()));
  // The loader hook must be in place before the app's first import, which follows this call.
  const esm = (options.esm ?? app.esmEntry) && registerEsmHook(esmTargets(plan.load), logger);
  // ES modules never pass through require: with the ESM hook everything loads now.
  const deferred = esm ? [] : plan.load.filter((name) => !isCore(name));
  // Said when the app first requires the target, as the others load then: a package the app never loads says nothing.
  const missing = new Set(plan.missing);
  const warnMissing = (name: InstrumentationName) => logger.warn(missingInstrumentation(name), { install: CATALOG[name].pkg });
  const missingLater = esm ? [] : plan.missing.filter((name) => !isCore(name));
  // Registered before any instrumentation exists: see deferUntilRequired.
  undo.push(
    deferUntilRequired([...deferred, ...missingLater], (name, id) => {
      if (missing.has(name)) return warnMissing(name);
      logger.debug(`Instrumentation ${name} loaded on first require of ${id}`);
      load(name);
    }),
  );
  for (const name of plan.load) if (!deferred.includes(name)) load(name);
  for (const name of plan.missing) if (!missingLater.includes(name)) warnMissing(name);
  // Whatever the tracing setup: a 5xx after a handler error is reported and typed in errors_total,
  // and the route label is the full template, never a concrete mount path.
  if (isInstalled('express', app.searchDirs)) instrumentations.push(new ExpressErrors(), new ExpressTemplates());

  const health = startHealth({ config, app, logger, registry: pipeline?.registry, catalog: pipeline?.catalog });
  undo.push(health.stop);

  flushTasks.push((timeoutMs) => errors.reporter.flush(timeoutMs));
  const flush = (keepAlive = false) => flushWithin(flushTasks, config.shutdownTimeoutMs, keepAlive);
  const flushEnding = (keepAlive: boolean) => flushUntilQuiet(flushTasks, activity, config.shutdownTimeoutMs, keepAlive);

  undo.push(
    installSignalHandlers({ onSignal: () => (health.shutdown.shuttingDown = true), flush: flushEnding, logger }),
    installCrashHandler({
      flush: () => flushEnding(true),
      logger,
      onCrash: (err) => {
        pipeline?.catalog.errors.inc([errorClassName(err) ?? 'UncaughtException', 'fatal']);
        errors.reporter.exception(err, { level: 'fatal', mechanism: 'onuncaughtexception', handled: false });
      },
    }),
    installBeforeExitFlush({ activity, tasks: flushTasks, budgetMs: config.exitTimeoutMs, exit: exitWindow, logger }),
  );

  logger.info('@innatural/otel started', {
    // Not resource.attributes: detectors with async attributes (host.id) have not settled yet.
    service: {
      name: config.resourceAttributes['service.name'] ?? config.serviceName ?? app.name,
      version: config.resourceAttributes['service.version'] ?? app.version,
      environment: config.resourceAttributes['deployment.environment.name'] ?? config.environment,
    },
    ...summarizeConfig(config),
    instrumentations: instrumentations.map((i) => i.instrumentationName.replace(/^@opentelemetry\/instrumentation-|^@innatural\/otel-/, '')),
    // Installed, enabled, and loaded only when the app first requires their package.
    deferred,
    notInstalled: plan.absent,
    // Their target is installed but their package is not (see missingInstrumentation).
    instrumentationNotInstalled: plan.missing,
    esm,
    startupMs: Math.round((performance.now() - startedAt) * 10) / 10,
  });

  let stopping: Promise<void> | undefined;
  return {
    flush,
    shutdown: () => {
      stopping ??= flush().then(() => runUndo(undo, logger));
      return stopping;
    },
  };
}

/** Reverse order; each step isolated so one failure does not leave the rest installed. */
export async function runUndo(undo: Array<() => unknown>, logger: Logger): Promise<void> {
  while (undo.length > 0) {
    const step = undo.pop()!;
    try {
      await step();
    } catch (err) {
      logger.debug(`Shutdown step failed: ${describeError(err)}`);
    }
  }
}
