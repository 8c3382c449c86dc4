import { resolveConfig } from './config/resolve';
import { globalSlot } from './global-slot';
import type { Env } from './config/variables';
import { appEntry, detectLauncher, STARTS_THE_APP } from './launchers';
import { createLogger, describeError, type Logger } from './logging/logger';

export interface StartOptions {
  /** Defaults to process.env; tests pass their own. */
  readonly env?: Env;
  /**
   * Register the ESM loader hook. The `--import` entry sets it; otherwise it is on when
   * the entry script is an ES module, so `NODE_OPTIONS=--require ...` works for ESM apps too.
   */
  readonly esm?: boolean;
}

export interface Handle {
  /** false when disabled or when start failed and the app runs uninstrumented. */
  readonly active: boolean;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

const NOOP: Handle = {
  active: false,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/** Global, not module-level: two copies of the package (or --require plus --import) must still start once. */
const slot = globalSlot<{ handle: Handle; logger: Logger }>('@innatural/otel');

/** OpenTelemetry JS 3.x, which this line is built on, needs it (its packages' `engines`). */
export const NODE_FLOOR = [22, 15] as const;

/** The one line for a Node below the floor, or undefined on a supported one. */
export function unsupportedNode(version: string = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > NODE_FLOOR[0] || (major === NODE_FLOOR[0] && minor >= NODE_FLOOR[1])) return undefined;
  return (
    `@innatural/otel needs Node ${NODE_FLOOR.join('.')} or later (it is built on OpenTelemetry JS 3.x); this is Node ${version}, ` +
    'so the app runs uninstrumented. Upgrade Node, or on Node 20 use the 0.1 line: npm install @innatural/otel@^0.1'
  );
}

/**
 * Boots everything the environment asks for. Never throws: a failure is one error line
 * and the app runs uninstrumented.
 */
export function start(options: StartOptions = {}): Handle {
  const existing = slot.get();
  if (existing) {
    existing.logger.debug('@innatural/otel is already started; this second load does nothing');
    return existing.handle;
  }
  // PM2 cluster mode: the app's environment is still in pm2_env when preloads run (see pm2Instance).
  const pm2 = options.env ? undefined : (require('./cluster/pm2') as typeof import('./cluster/pm2')).pm2Instance();
  const { config, warnings } = resolveConfig(options.env ?? pm2?.env ?? process.env);
  const logger = createLogger(config.logLevel);
  // Before the warnings: the app this launcher starts reads the same variables and reports them.
  const launcher = config.skipLaunchers ? detectLauncher() : undefined;
  if (launcher) {
    slot.set({ handle: NOOP, logger });
    logger.debug(`@innatural/otel does nothing in ${launcher.name}'s process: ${launcher.why ?? STARTS_THE_APP}; INNATURAL_SKIP_LAUNCHERS=false starts it here too`, {
      launcher: launcher.name,
      script: process.argv[1],
    });
    return NOOP;
  }
  for (const warning of warnings) logger.warn(warning.message, { variable: warning.variable });
  const unsupported = unsupportedNode();
  if (unsupported) {
    slot.set({ handle: NOOP, logger });
    logger.error(unsupported);
    return NOOP;
  }
  if (config.disabled) {
    slot.set({ handle: NOOP, logger });
    logger.debug('OTEL_SDK_DISABLED=true: nothing loaded');
    return NOOP;
  }

  const undo: Array<() => unknown> = [];
  try {
    // Before boot: what boot requires, and then the app, compile from the cache (not the bundle, loaded already).
    (require('./compile-cache') as typeof import('./compile-cache')).enableCompileCache(config.compileCache, logger);
    // Required here, not imported above: with the SDK disabled not one OpenTelemetry module may load.
    const { boot } = require('./boot') as typeof import('./boot');
    // Cluster mode names the entry in pm2_env; fork mode and everything else through appEntry.
    const running = boot(config, logger, { esm: options.esm, mainScript: pm2?.mainScript ?? appEntry() }, undo);
    const handle: Handle = {
      active: true,
      forceFlush: () => running.flush(),
      shutdown: () => running.shutdown(),
    };
    slot.set({ handle, logger });
    return handle;
  } catch (err) {
    logger.error(`@innatural/otel failed to start: ${describeError(err)}; the app runs uninstrumented`);
    void teardown(undo, logger);
    slot.set({ handle: NOOP, logger });
    return NOOP;
  }
}

async function teardown(undo: Array<() => unknown>, logger: Logger): Promise<void> {
  try {
    const { runUndo } = require('./boot') as typeof import('./boot');
    await runUndo(undo, logger);
  } catch {
    // nothing more we can do; the app must go on
  }
}

/** The running handle, or a no-op one when not started. */
export function current(): Handle {
  return slot.get()?.handle ?? NOOP;
}

export function shutdown(): Promise<void> {
  return current().shutdown();
}
