import { diag as ourDiag, DiagLogLevel, type DiagAPI, type DiagLogger } from '@opentelemetry/api';
import type { LogLevel } from '../config/resolve';
import { VARIABLES } from '../config/variables';
import { exitWindow } from './exit-window';
import { describeError, type Logger, type Severity } from '../logging/logger';
import { RateLimiter } from '../logging/rate-limit';

const DIAG_LEVEL: Record<LogLevel, DiagLogLevel> = {
  none: DiagLogLevel.NONE,
  error: DiagLogLevel.ERROR,
  warn: DiagLogLevel.WARN,
  info: DiagLogLevel.INFO,
  debug: DiagLogLevel.DEBUG,
  verbose: DiagLogLevel.VERBOSE,
  all: DiagLogLevel.ALL,
};

/** A down collector fails every batch; users must see that once a minute, not per batch. */
export const REPORT_INTERVAL_MS = 60_000;

/** Undoes the bridge (call it); `captureSdkErrors` also takes over the SDK's global error handler. */
export interface DiagBridge {
  (): void;
  /**
   * Where every failed export ends. Called by whoever builds an SDK component that
   * exports: it loads @opentelemetry/core, which a metrics-only service never needs
   * (with its semantic conventions, a sixth of the preload's start-up).
   */
  captureSdkErrors(): void;
}

/**
 * Routes OpenTelemetry's internal logging and (see captureSdkErrors) its global error
 * handler into our JSON lines, rate-limited per kind of message. `diag` is the API copy that
 * registers every global (otel-api.ts): the first registration fixes the registry's version.
 */
export function installDiag(logger: Logger, limiter = new RateLimiter(REPORT_INTERVAL_MS), diag: DiagAPI = ourDiag): DiagBridge {
  const limited = (severity: Severity, message: string, fields?: Record<string, unknown>) => {
    const suppressed = limiter.take(`${severity}:${templateOf(message)}`);
    if (suppressed === undefined) return;
    logger.log(severity, message, suppressed > 0 ? { ...fields, suppressed } : fields);
  };
  // Every failed export, whatever the signal or the wording (refused, timed out, rejected), is one
  // kind: a collector outage is one line a minute, with the count of failures it stands for.
  const exportFailed = (cause: string) => {
    // At exit, the one line of the exit flush counts what was lost and why.
    if (exitWindow.isOpen) return;
    const suppressed = limiter.take('export-failure');
    if (suppressed === undefined) return;
    logger.warn(`Telemetry export failed: ${cause}; data is dropped while this lasts (queues are bounded)`, {
      nextReportWithinMs: REPORT_INTERVAL_MS,
      ...(suppressed > 0 ? { suppressed } : {}),
    });
  };
  const forward =
    (severity: Severity) =>
    (message: string, ...args: unknown[]) => {
      const text = args.length > 0 ? `${message} ${args.map(describeError).join(' ')}` : message;
      // The SDK packages re-read some variables themselves; our config already reported those once.
      if ((severity === 'error' || severity === 'warn') && namesOurVariable(text)) return logger.debug(text);
      if ((severity === 'error' || severity === 'warn') && EXPORT_FAILURE.test(text)) return exportFailed(text);
      if (severity === 'error' || severity === 'warn') limited(severity, text);
      // The SDK's info lines narrate its own work (a retry given up, a provider not built): what
      // the user needs of them, a failed export, is the warning above, and our start line says the rest.
      else logger.log(severity === 'info' ? 'debug' : severity, text);
    };
  const bridge: DiagLogger = {
    error: forward('error'),
    warn: forward('warn'),
    info: forward('info'),
    debug: forward('debug'),
    verbose: forward('verbose'),
  };
  diag.setLogger(bridge, { logLevel: DIAG_LEVEL[logger.level], suppressOverrideMessage: true });
  let core: typeof import('@opentelemetry/core') | undefined;
  return Object.assign(
    () => {
      diag.disable();
      core?.setGlobalErrorHandler(core.loggingErrorHandler());
    },
    {
      captureSdkErrors: () => {
        if (core) return;
        core = require('@opentelemetry/core') as typeof import('@opentelemetry/core');
        core.setGlobalErrorHandler((err) => exportFailed(describeError(err)));
      },
    },
  );
}

/** What the SDK's exporters and readers say when an export does not go through. */
const EXPORT_FAILURE = /export\b.*\b(failed|timed out|timeout)|\b(failed|timed out)\b.*\bexport/i;

function namesOurVariable(text: string): boolean {
  return (text.match(/\b[A-Z][A-Z0-9_]{3,}\b/g) ?? []).some((word) => Object.hasOwn(VARIABLES, word));
}

/** Messages differing only in numbers (ports, counts, ids) are one kind. */
function templateOf(message: string): string {
  return message.replace(/[0-9a-f]{16,}/gi, '#').replace(/\d+/g, '#').slice(0, 160);
}
