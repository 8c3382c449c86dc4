import { metrics, type Context } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { ResolvedConfig } from '../config/resolve';
import { OwnRequests, ownEndpoints } from '../export/own-endpoints';
import { describeError, type Logger } from '../logging/logger';
import { AUTO_INSTRUMENTATIONS, isInstalled, resolveOptional, type AppInfo } from '../modules';
import { installCommand } from '../packages';
import { instrumentationCompat } from './compat';
import { HEALTH_PATHS } from '../ops/routes';
import { createIncomingFilter } from '../http/own-traffic';
import { CATALOG, INSTRUMENTATION_NAMES, type CatalogEntry, type InstrumentationName } from '../config/instrumentations';

export interface ActiveSignals {
  readonly traces: boolean;
  readonly metrics: boolean;
  readonly logs: boolean;
}

export interface Plan {
  readonly load: readonly InstrumentationName[];
  /** Enabled, but their target package is not installed where the app runs. */
  readonly absent: readonly InstrumentationName[];
  /** Enabled and their target installed (or node core), but not the instrumentation's own package: one of those we do not ship. */
  readonly missing: readonly InstrumentationName[];
}

const found = (pkg: string, dirs: readonly string[]) => resolveOptional(pkg, dirs) !== undefined;

/** Which instrumentations to load, without loading any. */
export function planInstrumentations(
  config: Pick<ResolvedConfig['instrumentations'], 'enabled' | 'disabled'>,
  app: Pick<AppInfo, 'searchDirs' | 'declared'>,
  active: ActiveSignals,
  installed: (name: string, dirs: readonly string[]) => boolean = isInstalled,
  available: (pkg: string, dirs: readonly string[]) => boolean = found,
): Plan {
  const useful = (entry: CatalogEntry) =>
    active.traces || (entry.role === 'metrics' && active.metrics) || (entry.role === 'logs' && active.logs);
  const enabled = INSTRUMENTATION_NAMES.filter((name) =>
    config.enabled ? config.enabled.includes(name) : !('offBecause' in CATALOG[name]),
  ).filter((name) => !config.disabled.includes(name) && useful(CATALOG[name]));
  const load: InstrumentationName[] = [];
  const absent: InstrumentationName[] = [];
  const missing: InstrumentationName[] = [];
  for (const name of enabled) {
    const entry: CatalogEntry = CATALOG[name];
    const present = (m: string) => installed(m, app.searchDirs) && (!entry.onlyWhenDeclared || app.declared.has(m));
    if (entry.modules.length > 0 && !entry.modules.some(present)) absent.push(name);
    // Only for the targets the app has: a resolution each, none for the packages we ship.
    else if (!entry.shipped && !entry.own && !available(entry.pkg, app.searchDirs)) missing.push(name);
    else load.push(name);
  }
  return { load, absent, missing };
}

/**
 * The one line for an enabled instrumentation whose package is not installed: said when the
 * app first requires its target (an installed package the app never loads says nothing), or
 * at start for node core and under the ESM hook, and by doctor.
 */
export function missingInstrumentation(name: InstrumentationName): string {
  const { pkg, modules } = CATALOG[name];
  const target = modules[0] ?? name;
  return `Instrumentation ${name} is enabled but ${pkg} is not installed, so ${target} is not traced: ${installCommand(pkg)} (or ${AUTO_INSTRUMENTATIONS}, which has every instrumentation), or add ${name} to OTEL_NODE_DISABLED_INSTRUMENTATIONS`;
}

/** Module names the ESM loader hook must intercept for the planned instrumentations, and only those. */
export function esmTargets(names: readonly InstrumentationName[]): string[] {
  return [...new Set(names.flatMap((n) => [...CATALOG[n].modules, ...(CATALOG[n].builtins ?? [])]))];
}

export interface OptionsContext {
  readonly config: ResolvedConfig;
  /** Where the app's packages are: the instrumentations we do not ship are installed there. */
  readonly searchDirs: readonly string[];
  /** A logger provider exists: logger instrumentations may send records. */
  readonly sendLogs: boolean;
  /** The context manager's attach, for the server spans; absent without tracing (no server spans then). */
  readonly attachContext?: (ctx: Context) => void;
}

/** Requests that are not the app's traffic: our own servers, ignored paths, our routes on the app's port. */
function incomingFilter(config: ResolvedConfig): (req: IncomingMessage) => boolean {
  return createIncomingFilter([
    ...config.traces.ignorePaths,
    // Answered by us on the app's port, never by the app: not its traffic.
    ...(config.health.appRoutes ? HEALTH_PATHS : []),
  ]);
}

/**
 * Our exporters' and Sentry's requests, for the client instrumentations to skip. They run
 * untraced already (see untraced()); this also covers a send that starts outside that
 * context, and skips the instrumentation's per-request work on them.
 */
function ownRequests(config: ResolvedConfig): OwnRequests | undefined {
  const own = new OwnRequests(ownEndpoints(config));
  return own.size > 0 ? own : undefined;
}

/** Per-entry options; an entry not named here takes the instrumentation's defaults. */
const OPTIONS: Partial<Record<InstrumentationName, (ctx: OptionsContext) => object>> = {
  http: (ctx) => {
    const own = ownRequests(ctx.config);
    // Server requests are HttpServerSpans' (below); this one keeps the client side.
    return { disableIncomingRequestInstrumentation: true, ...(own ? { ignoreOutgoingRequestHook: own.http } : {}) };
  },
  undici: (ctx) => {
    const own = ownRequests(ctx.config);
    return own ? { ignoreRequestHook: own.undici } : {};
  },
  winston: (ctx) => ({ disableLogSending: !ctx.sendLogs }),
  pino: (ctx) => ({ disableLogSending: !ctx.sendLogs }),
  bunyan: (ctx) => ({ disableLogSending: !ctx.sendLogs }),
  // Parameter values are user data; the query text (placeholders only) is enough to debug.
  pg: () => ({ enhancedDatabaseReporting: false }),
  // Commands outside a request still count in redis_operations_total, as node-redis's do.
  ioredis: () => ({ requireParentSpan: false }),
  openai: (ctx) => ({ captureMessageContent: ctx.config.instrumentations.captureMessageContent }),
};

type InstrumentationClass = new (options: object) => Instrumentation;

/** The catalog's `own` entries: required from here, never looked up in the app. */
const OWN: Partial<Record<InstrumentationName, () => InstrumentationClass>> = {
  openai: () => (require('./openai') as typeof import('./openai')).OpenAIInstrumentation,
};

function optionsFor(name: InstrumentationName, ctx: OptionsContext): object {
  return OPTIONS[name]?.(ctx) ?? {};
}

/**
 * Requires and enables one instrumentation (http is two: our server spans and the stock
 * client side). One that fails to load is reported and skipped; the others still load.
 */
export function loadInstrumentation(name: InstrumentationName, ctx: OptionsContext, logger: Logger): Instrumentation[] {
  const loaded = guarded(name, logger, () => createInstrumentation(name, ctx, logger));
  // Its own guard: a failure of one half must neither drop the other nor leave it enabled untracked.
  const attach = ctx.attachContext;
  if (name === 'http' && attach) loaded.push(...guarded('http (server spans)', logger, () => createServerSpans(ctx.config, attach)));
  return loaded;
}

/** A failure already said in full (versions and fix): logged as it is. */
class Explained extends Error {}

function guarded(what: string, logger: Logger, create: () => Instrumentation): Instrumentation[] {
  try {
    return [create()];
  } catch (err) {
    if (err instanceof Explained) logger.error(err.message);
    else logger.error(`Instrumentation ${what} failed to load: ${describeError(err)}; continuing without it`);
    return [];
  }
}

function createInstrumentation(name: InstrumentationName, ctx: OptionsContext, logger: Logger, extra: object = {}): Instrumentation {
  if (name === 'express' && !ctx.config.traces.expressLayerSpans) {
    const { ExpressRoutes } = require('./express-routes') as typeof import('./express-routes');
    return new ExpressRoutes();
  }
  const own = OWN[name];
  const Ctor = own ? own() : resolveInstrumentation(name, ctx, logger);
  const instrumentation = new Ctor({ ...optionsFor(name, ctx), ...extra });
  // Some instrumentations (upstream's openai) declare their instrument fields as class fields, which
  // wipes what the base constructor created; setting the provider again re-creates them.
  instrumentation.setMeterProvider(metrics.getMeterProvider());
  return instrumentation;
}

function resolveInstrumentation(name: InstrumentationName, ctx: OptionsContext, logger: Logger): InstrumentationClass {
  const { pkg, exportName } = CATALOG[name];
  const entry = resolveOptional(pkg, ctx.searchDirs);
  if (entry === undefined) throw new Error(`${pkg} is not installed`);
  // Before requiring it: on an API copy older than its base needs, construction fails with a bare TypeError.
  const compat = instrumentationCompat(name, entry);
  if (compat?.level === 'error') throw new Explained(compat.message);
  if (compat) logger.warn(compat.message);
  const mod = require(entry) as Record<string, InstrumentationClass>;
  const Ctor = mod[exportName];
  if (!Ctor) throw new Error(`${pkg} has no export ${exportName}`);
  return Ctor;
}

function createServerSpans(config: ResolvedConfig, attach: (ctx: Context) => void): Instrumentation {
  const { HttpServerSpans } = require('./http-server') as typeof import('./http-server');
  const server = new HttpServerSpans({
    ignore: incomingFilter(config),
    attach,
    durationMetric: config.metrics.exporters.some((e) => e !== 'prometheus'),
  });
  server.setMeterProvider(metrics.getMeterProvider());
  server.enable();
  return server;
}

/**
 * `name` built disabled, for what its definitions say (doctor reads the versions it covers):
 * nothing is patched, no hook stays. undefined when it cannot be built (said elsewhere).
 */
export function inspectInstrumentation(name: InstrumentationName, ctx: OptionsContext, logger: Logger): Instrumentation | undefined {
  try {
    const instrumentation = createInstrumentation(name, ctx, logger, { enabled: false });
    instrumentation.disable();
    return instrumentation;
  } catch {
    return undefined;
  }
}

/** Instrumentations of node core (always present) load at start; the others may wait for their package. */
export function isCore(name: InstrumentationName): boolean {
  return CATALOG[name].modules.length === 0;
}
