import { AiLedger } from '../metrics/ai-ledger';
import { setMetricsState } from '../metrics/api';
import { registerCatalog, type CatalogMetrics } from '../metrics/families';
import { createMeterProvider, createPushReaders } from '../metrics/provider';
import { Registry } from '../metrics/registry';
import { installRuntimeMetrics } from '../metrics/runtime';
import type { Globals } from './globals';
import { part, type Part } from './part';

export interface MetricsPipeline {
  readonly registry: Registry;
  readonly catalog: CatalogMetrics;
  readonly ai: AiLedger;
}

export interface Metrics extends Part {
  /** The catalog and runtime metrics, recorded in-process; undefined with OTEL_METRICS_EXPORTER=none. */
  readonly pipeline: MetricsPipeline | undefined;
}

/** The in-process pipeline now; the push readers (and sdk-metrics) only when a push exporter is set. */
export function startMetrics({ config, logger, api, diag, resource }: Globals): Metrics {
  return part(logger, (undo) => {
    const pipeline = config.metrics.exporters.length === 0 ? undefined : recordInProcess(config.metrics, logger, undo);
    // Called only when a push exporter exists: the producer pulls in sdk-metrics' model.
    const producers = () => {
      if (!pipeline) return [];
      const { RegistryProducer } = require('../metrics/otlp-producer') as typeof import('../metrics/otlp-producer');
      return [new RegistryProducer(pipeline.registry)];
    };
    const readers = createPushReaders(config, producers);
    if (readers.length === 0) return { pipeline };
    diag.captureSdkErrors();
    const meterProvider = createMeterProvider(resource(), readers);
    api.metrics.setGlobalMeterProvider(meterProvider);
    undo.push(
      () => meterProvider.shutdown(),
      () => api.metrics.disable(),
    );
    return { pipeline, flush: () => meterProvider.forceFlush() };
  });
}

function recordInProcess(metrics: Globals['config']['metrics'], logger: Globals['logger'], undo: Array<() => unknown>): MetricsPipeline {
  const registry = new Registry(metrics.cardinalityLimit, metrics.exemplars);
  const catalog = registerCatalog(registry, metrics.prefix);
  undo.push(installRuntimeMetrics(registry));
  const ai = new AiLedger();
  setMetricsState({ metrics: catalog, ai, debug: (m) => logger.debug(m) });
  undo.push(() => setMetricsState(undefined));
  return { registry, catalog, ai };
}
