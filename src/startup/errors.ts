import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResolvedConfig } from '../config/resolve';
import type { FinishListener } from '../http/requests';
import { describeError, type Logger } from '../logging/logger';
import type { CatalogMetrics } from '../metrics/families';
import { resolveOptional, type AppInfo } from '../modules';
import { missingPeer } from '../packages';
import type { Globals } from './globals';
import type { Metrics } from './metrics';
import { part, type Part } from './part';
import type { Redactor } from '../redaction/policy';
import type { SentryBackend } from '../sentry/backend';
import { setErrorState } from '../errors/api';
import { requestError } from '../errors/request-errors';
import { ErrorReporter } from '../errors/reporter';

export interface Errors extends Part {
  readonly reporter: ErrorReporter;
  readonly sentry: SentryBackend | undefined;
  /** Reports requests that ended in a 5xx after an error, once each. */
  readonly listener: FinishListener;
}

/**
 * Error reporting: always a JSON line, and Sentry when SENTRY_DSN is set. Without a DSN
 * no Sentry module is loaded. A Sentry that is not installed or fails to start is one error
 * line; errors are still logged.
 */
export function startErrors({ config, app, logger, redactor }: Globals, { pipeline }: Metrics): Errors {
  return part(logger, (undo) => {
    const errors = reportErrors(config, app, logger, redactor('errors'), pipeline?.catalog);
    undo.push(() => errors.stop(config.shutdownTimeoutMs));
    return { ...errors, flush: (timeoutMs: number) => errors.reporter.flush(timeoutMs) };
  });
}

function reportErrors(config: ResolvedConfig, app: AppInfo, logger: Logger, redactor: Redactor, metrics: CatalogMetrics | undefined) {
  let sentry: SentryBackend | undefined;
  const sdk = config.sentry && resolveOptional('@sentry/node', app.searchDirs);
  if (config.sentry && !sdk) logger.error(missingPeer('@sentry/node'));
  if (config.sentry && sdk) {
    try {
      const { startSentry } = require('../sentry/backend') as typeof import('../sentry/backend');
      sentry = startSentry(config.sentry, redactor, logger, app, sdk);
    } catch (err) {
      logger.error(`Sentry failed to start: ${describeError(err)}; errors are logged locally only`);
    }
  }
  const reporter = new ErrorReporter(logger, redactor, sentry);
  setErrorState({ reporter, metrics });
  const listener: FinishListener = (req: IncomingMessage, res: ServerResponse) => {
    // 4xx are the client's errors, not the service's: never reported.
    if (res.statusCode < 500) return;
    const noted = requestError(req);
    if (!noted) return;
    reporter.exception(noted.error, { level: 'error', mechanism: 'express', handled: false, request: req, spanContext: noted.spanContext });
  };
  return {
    reporter,
    sentry,
    listener,
    stop: async (timeoutMs: number) => {
      setErrorState(undefined);
      await sentry?.close(timeoutMs);
    },
  };
}
