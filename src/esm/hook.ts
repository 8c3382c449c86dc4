import { pathToFileURL } from 'node:url';
import type { Logger } from '../logging/logger';

/**
 * Registers import-in-the-middle's loader for the modules our instrumentations patch,
 * and only those: every module it intercepts is rewritten through a wrapper, which
 * costs start-up time and has broken unrelated ESM packages in other preloads.
 */
export function registerEsmHook(include: readonly string[], logger: Logger): boolean {
  const mod = require('node:module') as typeof import('node:module');
  if (typeof mod.register !== 'function') {
    logger.warn('This Node.js has no module.register(); ES modules will not be instrumented (Node.js >= 20.19 needed)');
    return false;
  }
  // The same copy of import-in-the-middle as the instrumentations' Hook registry: resolved from @opentelemetry/instrumentation.
  mod.register('@opentelemetry/instrumentation/hook.mjs', pathToFileURL(__filename), {
    data: { include: [...include] },
  });
  return true;
}
