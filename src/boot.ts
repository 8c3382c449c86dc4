import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { ResolvedConfig } from './config/resolve';
import { summarizeConfig } from './config/summary';
import { registerEsmHook } from './esm/hook';
import { esmTargets, loadInstrumentations, planInstrumentations } from './instrumentations/load';
import { Activity, installBeforeExitFlush } from './lifecycle/before-exit';
import { installCrashHandler } from './lifecycle/crash';
import { flushWithin } from './lifecycle/flush';
import { installSignalHandlers } from './lifecycle/signals';
import { installDiag } from './logging/diag';
import { describeError, type Logger } from './logging/logger';
import { createLoggerProvider } from './logs/provider';
import { createMeterProvider, createPushReaders } from './metrics/provider';
import { appInfo } from './modules';
import { buildResource } from './resource';
import { createPropagator } from './tracing/propagators';
import { createTracerProvider } from './tracing/provider';

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

/**
 * Builds the SDK. `undo` collects what was installed so that a failure halfway, or
 * `shutdown()`, takes it down in reverse order.
 */
export function boot(config: ResolvedConfig, logger: Logger, options: BootOptions, undo: Array<() => unknown>): Running {
  const startedAt = performance.now();
  undo.push(installDiag(logger));

  const app = appInfo(options.mainScript, options.cwd);
  const resource = buildResource(config, app);

  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  undo.push(() => context.disable());
  propagation.setGlobalPropagator(createPropagator(config.propagators));
  undo.push(() => propagation.disable());

  const activity = new Activity();
  const tracerProvider = createTracerProvider(config, resource, [activity]);
  if (tracerProvider) {
    trace.setGlobalTracerProvider(tracerProvider);
    undo.push(() => tracerProvider.shutdown(), () => trace.disable());
  }

  const meterProvider = createMeterProvider(resource, createPushReaders(config));
  if (meterProvider) {
    metrics.setGlobalMeterProvider(meterProvider);
    undo.push(() => meterProvider.shutdown(), () => metrics.disable());
  }

  const plan = planInstrumentations(config.instrumentations, app);
  const loggerProvider = plan.load.some((n) => LOGGING_INSTRUMENTATIONS.includes(n))
    ? createLoggerProvider(config, resource)
    : undefined;
  if (loggerProvider) {
    const { logs } = require('@opentelemetry/api-logs') as typeof import('@opentelemetry/api-logs');
    logs.setGlobalLoggerProvider(loggerProvider);
    undo.push(() => loggerProvider.shutdown(), () => logs.disable());
  }

  // The loader hook must be in place before the app's first import, which follows this call.
  const esm = (options.esm ?? app.esmEntry) && registerEsmHook(esmTargets(plan.load), logger);
  const instrumentations: Instrumentation[] = loadInstrumentations(plan.load, { config, sendLogs: !!loggerProvider }, logger);
  undo.push(() => instrumentations.forEach((i) => i.disable()));

  const flushTasks = [tracerProvider, meterProvider, loggerProvider]
    .filter((p) => p !== undefined)
    .map((p) => () => p.forceFlush());
  const flush = (keepAlive = false) => flushWithin(flushTasks, config.shutdownTimeoutMs, keepAlive);

  undo.push(
    installSignalHandlers({ onSignal: () => {}, flush, logger }),
    installCrashHandler({ flush: () => flush(true), logger }),
    installBeforeExitFlush(activity, () => flush()),
  );

  logger.info('@innatural/otel started', {
    // Not resource.attributes: detectors with async attributes (host.id) have not settled yet.
    service: {
      name: config.resourceAttributes['service.name'] ?? config.serviceName ?? app.name,
      version: config.resourceAttributes['service.version'] ?? app.version,
      environment: config.resourceAttributes['deployment.environment.name'] ?? config.environment,
    },
    ...summarizeConfig(config),
    instrumentations: instrumentations.map((i) => i.instrumentationName.replace('@opentelemetry/instrumentation-', '')),
    notInstalled: plan.absent,
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
