import type { ResolvedConfig } from './config/resolve';
import { summarizeConfig } from './config/summary';
import { flushWithin } from './lifecycle/flush';
import type { Logger } from './logging/logger';
import { startErrors } from './startup/errors';
import { startGlobals, type Globals } from './startup/globals';
import { startHealth } from './startup/health';
import { startHttpTiming } from './startup/http';
import { startInstrumentations, type Instrumentations } from './startup/instrumentations';
import { startLifecycle } from './startup/lifecycle';
import { startLogs } from './startup/logs';
import { startMetrics } from './startup/metrics';
import { runUndo, type Part } from './startup/part';
import { startTracing } from './startup/tracing';

export { runUndo } from './startup/part';

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

/**
 * Starts one part per concern, each on what the earlier ones built. `undo` takes each part's
 * shutdown as it starts, so that a failure halfway, or `shutdown()`, stops them in reverse order.
 */
export function boot(config: ResolvedConfig, logger: Logger, options: BootOptions, undo: Array<() => unknown>): Running {
  const startedAt = performance.now();
  const parts: Part[] = [];
  const run = <T extends Part>(started: T): T => {
    parts.push(started);
    undo.push(() => started.shutdown());
    return started;
  };

  const globals = run(startGlobals(config, logger, options.mainScript, options.cwd));
  const metrics = run(startMetrics(globals));
  const errors = run(startErrors(globals, metrics));
  const tracing = run(startTracing(globals, metrics, errors));
  run(startHttpTiming(globals, metrics, errors, tracing));
  const logs = run(startLogs(globals));
  const instrumentations = run(startInstrumentations(globals, options.esm, metrics, tracing, logs));
  const health = run(startHealth(globals, metrics, instrumentations));
  const tasks = parts.map((p) => p.flush);
  run(startLifecycle(globals, tasks, metrics, errors, tracing, health));

  logStarted(globals, instrumentations, startedAt);
  const flush = (keepAlive = false) => flushWithin(tasks, config.shutdownTimeoutMs, keepAlive);
  let stopping: Promise<void> | undefined;
  return {
    flush,
    shutdown: () => {
      stopping ??= flush().then(() => runUndo(undo, logger));
      return stopping;
    },
  };
}

function logStarted({ config, logger, app }: Globals, instrumentations: Instrumentations, startedAt: number): void {
  logger.info('@innatural/otel started', {
    // Not resource.attributes: detectors with async attributes (host.id) have not settled yet.
    service: {
      name: config.resourceAttributes['service.name'] ?? config.serviceName ?? app.name,
      version: config.resourceAttributes['service.version'] ?? app.version,
      environment: config.resourceAttributes['deployment.environment.name'] ?? config.environment,
    },
    ...summarizeConfig(config),
    ...instrumentations.summary(),
    startupMs: Math.round((performance.now() - startedAt) * 10) / 10,
  });
}
