import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describeError, type Logger } from '../logging/logger';

interface SyncHooks {
  supportsSyncHooks(): boolean;
  register(options: { include: string[] }): void;
}

/**
 * Registers import-in-the-middle's loader for the modules our instrumentations patch,
 * and only those: every module it intercepts is rewritten through a wrapper, which
 * costs start-up time and has broken unrelated ESM packages in other preloads.
 *
 * Where Node runs import-in-the-middle's synchronous hooks (`module.registerHooks`: 22.22.3+,
 * 24.11.1+, 26), those: in-thread, with no message round trip per module, and no DEP0205
 * warning, which Node 26 prints for every `module.register()`. Elsewhere `module.register()`.
 */
export function registerEsmHook(include: readonly string[], logger: Logger): boolean {
  const mod = require('node:module') as typeof import('node:module');
  // The same copy of import-in-the-middle as the instrumentations' Hook registry: resolved from @opentelemetry/instrumentation.
  const instrumentation = require.resolve('@opentelemetry/instrumentation');
  if (typeof (mod as { registerHooks?: unknown }).registerHooks === 'function') {
    try {
      const iitm = createRequire(instrumentation);
      // supports-sync-hooks.mjs imports nothing: the loader's own modules load only when used.
      const { supportsSyncHooks } = iitm('import-in-the-middle/supports-sync-hooks.mjs') as Pick<SyncHooks, 'supportsSyncHooks'>;
      if (supportsSyncHooks()) {
        (iitm('import-in-the-middle/register-hooks.mjs') as SyncHooks).register({ include: [...include] });
        logger.debug('ES module hook: import-in-the-middle through module.registerHooks()');
        return true;
      }
    } catch (err) {
      // An import-in-the-middle without the synchronous loader (a different copy): the asynchronous one still works.
      logger.debug(`ES module hook: module.registerHooks() path unavailable (${describeError(err)}); using module.register()`);
    }
  }
  if (typeof mod.register !== 'function') {
    logger.warn('This Node.js has no module.register(); ES modules will not be instrumented (Node.js >= 20.19 needed)');
    return false;
  }
  mod.register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), {
    data: { include: [...include] },
  });
  logger.debug('ES module hook: import-in-the-middle through module.register()');
  return true;
}
