import { join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { CATALOG, type InstrumentationName } from '../config/instrumentations';
import { registerEsmHook } from '../esm/hook';
import { ExpressErrors } from '../instrumentations/express-errors';
import { ExpressTemplates } from '../instrumentations/express-templates';
import { deferUntilRequired } from '../instrumentations/lazy';
import { esmTargets, isCore, loadInstrumentation, missingInstrumentation, planInstrumentations } from '../instrumentations/load';
import { instrumentationBaseOf } from '../instrumentations/compat';
import { createPgPoolGauge } from '../instrumentations/pg-pool';
import { entryVersionWarnings } from '../instrumentations/versions';
import { InstrumentationBook, type InstrumentationStates } from '../health/instrumentation-states';
import { isInstalled } from '../modules';
import type { Globals } from './globals';
import type { Logs } from './logs';
import type { Metrics } from './metrics';
import { part, type Part } from './part';
import type { Tracing } from './tracing';

export interface Instrumentations extends Part {
  /** What the start line reports. */
  summary(): {
    readonly instrumentations: string[];
    readonly deferred: InstrumentationName[];
    readonly notInstalled: readonly InstrumentationName[];
    readonly instrumentationNotInstalled: readonly InstrumentationName[];
    readonly esm: boolean | undefined;
  };
  /** Each enabled instrumentation's state now, for the health server. */
  states(): InstrumentationStates;
}

/** Loads what the plan names: core ones now, the others on the app's first require of their target. */
export function startInstrumentations(globals: Globals, esmOption: boolean | undefined, { pipeline }: Metrics, tracing: Tracing, logs: Logs): Instrumentations {
  const { config, logger, app } = globals;
  return part(logger, (undo) => {
    const plan = planInstrumentations(config.instrumentations, app, {
      traces: tracing.enabled,
      metrics: pipeline !== undefined,
      logs: config.logs.exporters.length > 0,
    });
    const instrumentations: Instrumentation[] = [];
    const book = new InstrumentationBook();
    // One line per package per process: see versions.ts.
    const checked = new Set<string>();
    const checkVersions = (name: InstrumentationName, loaded: readonly Instrumentation[], from: readonly string[]) => {
      for (const warning of entryVersionWarnings(name, CATALOG[name], loaded, from)) {
        book.unsupported({ instrumentation: name, package: warning.pkg, version: warning.installed.version, supported: warning.supported });
        if (checked.has(warning.pkg)) continue;
        checked.add(warning.pkg);
        logger.warn(warning.message, { package: warning.pkg, version: warning.installed.version });
      }
    };
    const appFiles = app.searchDirs.map((dir) => join(dir, '__innatural_otel__.js'));
    const load = (name: InstrumentationName, from: string | undefined = undefined) => {
      if (CATALOG[name].role === 'metrics') tracing.ensureProvider();
      const sends = CATALOG[name].role === 'logs' && logs.ensureProvider();
      const loaded = loadInstrumentation(name, { config, searchDirs: app.searchDirs, sendLogs: sends, attachContext: tracing.attachContext }, logger);
      instrumentations.push(...loaded);
      book.set(name, loaded.length > 0 ? 'active' : 'failed');
      try {
        checkVersions(name, loaded, from ? [from, ...appFiles] : appFiles);
      } catch (err) {
        logger.debug(`Instrumentation ${name}: its target's version could not be read (${String(err)})`);
      }
      // After pg's own, on its instrumentation copy: see createPgPoolGauge.
      if (name === 'pg' && pipeline) {
        const pools = createPgPoolGauge(instrumentationBaseOf(CATALOG.pg.pkg, app.searchDirs));
        pools.report(pipeline.registry, pipeline.catalog);
        instrumentations.push(pools);
      }
    };
    undo.push(() => instrumentations.forEach((i) => i.disable()));
    // The loader hook must be in place before the app's first import, which follows boot.
    const esm = (esmOption ?? app.esmEntry) && registerEsmHook(esmTargets(plan.load), logger);
    // ES modules never pass through require: with the ESM hook everything loads now.
    const deferred = esm ? [] : plan.load.filter((name) => !isCore(name));
    // Said when the app first requires the target, as the others load then: a package the app never loads says nothing.
    const missing = new Set(plan.missing);
    const warnMissing = (name: InstrumentationName) => logger.warn(missingInstrumentation(name), { install: CATALOG[name].pkg });
    const missingLater = esm ? [] : plan.missing.filter((name) => !isCore(name));
    for (const name of deferred) book.set(name, 'deferred');
    for (const name of plan.missing) book.set(name, 'missing');
    // Registered before any instrumentation exists: see deferUntilRequired.
    undo.push(
      deferUntilRequired([...deferred, ...missingLater], (name, id, from) => {
        if (missing.has(name)) return warnMissing(name);
        logger.debug(`Instrumentation ${name} loaded on first require of ${id}`);
        load(name, from);
      }),
    );
    for (const name of plan.load) if (!deferred.includes(name)) load(name);
    for (const name of plan.missing) if (!missingLater.includes(name)) warnMissing(name);
    // Whatever the tracing setup: a 5xx after a handler error is reported and typed in errors_total,
    // and the route label is the full template, never a concrete mount path.
    if (isInstalled('express', app.searchDirs)) instrumentations.push(new ExpressErrors(), new ExpressTemplates());
    return {
      summary: () => {
        return {
          instrumentations: instrumentations.map((i) => i.instrumentationName.replace(/^@opentelemetry\/instrumentation-|^@innatural\/otel-/, '')),
          // Installed, enabled, and loaded only when the app first requires their package.
          deferred,
          notInstalled: plan.absent,
          // Their target is installed but their package is not (see missingInstrumentation).
          instrumentationNotInstalled: plan.missing,
          esm,
        };
      },
      states: () => book.report(),
    };
  });
}
