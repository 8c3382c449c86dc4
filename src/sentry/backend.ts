import type * as SentryNode from '@sentry/node';
import type { ResolvedConfig } from '../config/resolve';
import type { Breadcrumb, ErrorBackend, ExceptionReport, Level } from '../errors/reporter';
import type { RequestData } from '../errors/request';
import { describeError, type Logger } from '../logging/logger';
import { loopFreeHttp, untracedTransport, warnOnFailure } from './transport';
import { requireOptional, type AppInfo } from '../modules';
import { missingPeer } from '../packages';
import type { Redactor } from '../redaction/policy';
import { scrubBreadcrumb, scrubEvent } from './scrub';

export type SentryConfig = NonNullable<ResolvedConfig['sentry']>;

export interface SentryBackend extends ErrorBackend {
  /** Sentry's OTLP traces endpoint for the DSN, or undefined when the DSN cannot be parsed. */
  readonly otlp: { readonly url: string; readonly headers: Record<string, string> } | undefined;
  close(timeoutMs: number): Promise<boolean>;
}

/**
 * Sentry as an error backend beside OpenTelemetry, which keeps instrumentation and
 * tracing. A client built by hand rather than `Sentry.init()`: init() would patch http a
 * second time, start its own traces and install its own crash handlers. Events join the
 * active OpenTelemetry span's trace through `openTelemetryIntegration`.
 */
export function startSentry(config: SentryConfig, redactor: Redactor, logger: Logger, app: AppInfo, sdk: string): SentryBackend {
  // An optional peer: installed beside the app, resolved where startErrors found it.
  const Sentry = require(sdk) as typeof SentryNode;
  const integrations: ConstructorParameters<typeof SentryNode.NodeClient>[0]['integrations'] = [
    Sentry.eventFiltersIntegration(),
    Sentry.functionToStringIntegration(),
    Sentry.linkedErrorsIntegration(),
    Sentry.dedupeIntegration(),
    Sentry.contextLinesIntegration(),
    Sentry.nodeContextIntegration(),
    Sentry.openTelemetryIntegration(),
  ];
  const profiling = config.profilesSampleRate > 0 ? loadProfiling(logger, app) : undefined;
  if (profiling) integrations.push(profiling);
  const client = new Sentry.NodeClient({
    dsn: config.dsn,
    environment: config.environment ?? process.env.NODE_ENV ?? 'production',
    release: config.release ?? (app.name && app.version ? `${app.name}@${app.version}` : undefined),
    debug: config.debug,
    integrations,
    transport: (options) => warnOnFailure(untracedTransport(Sentry.makeNodeTransport({ ...options, httpModule: loopFreeHttp })), logger),
    stackParser: Sentry.defaultStackParser,
    // No tracesSampleRate: Sentry must not start traces of its own; spans reach it over OTLP.
    ...(profiling ? { profileSessionSampleRate: config.profilesSampleRate, profileLifecycle: 'manual' as const } : {}),
    beforeSend: (event) => scrubEvent(event, redactor),
    beforeBreadcrumb: (breadcrumb) => scrubBreadcrumb(breadcrumb, redactor),
  });
  Sentry.setCurrentClient(client);
  client.init();
  if (profiling) Sentry.profiler.startProfiler();

  return {
    otlp: Sentry.getOtlpTracesEndpoint(config.dsn),
    captureException(error: unknown, report: ExceptionReport, request: RequestData | undefined) {
      return Sentry.withScope((scope) => {
        scope.setLevel(report.level);
        if (report.context !== undefined) scope.setContext('context', redactor.value(report.context) as Record<string, unknown>);
        if (request) scope.addEventProcessor((event) => ({ ...event, request: { ...request } as SentryNode.Event['request'] }));
        return Sentry.captureException(error, { mechanism: { type: report.mechanism, handled: report.handled } });
      });
    },
    captureMessage(message: string, level: Level, context: unknown) {
      return Sentry.withScope((scope) => {
        if (context !== undefined) scope.setContext('context', redactor.value(context) as Record<string, unknown>);
        return Sentry.captureMessage(message, level);
      });
    },
    addBreadcrumb(crumb: Breadcrumb) {
      Sentry.addBreadcrumb({ message: crumb.message, category: crumb.category, data: crumb.data, level: crumb.level ?? 'info' });
    },
    flush: (timeoutMs) => Promise.resolve(client.flush(timeoutMs)),
    close: (timeoutMs) => Promise.resolve(client.close(timeoutMs)),
  };
}

function loadProfiling(logger: Logger, app: AppInfo): ReturnType<typeof import('@sentry/profiling-node').nodeProfilingIntegration> | undefined {
  try {
    const profiler = requireOptional<typeof import('@sentry/profiling-node')>('@sentry/profiling-node', app.searchDirs);
    if (!profiler) {
      logger.warn(missingPeer('@sentry/profiling-node'));
      return undefined;
    }
    return profiler.nodeProfilingIntegration();
  } catch (err) {
    logger.warn(`SENTRY_PROFILES_SAMPLE_RATE is set but @sentry/profiling-node cannot load (${describeError(err)}); profiling is off`);
    return undefined;
  }
}
