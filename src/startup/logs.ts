import { createLoggerProvider } from '../log-records/provider';
import { RedactingLogProcessor } from '../redaction/logs';
import type { Globals } from './globals';
import { part, type Part } from './part';

export interface Logs extends Part {
  /** Builds the provider on the first call; whether log records are exported. */
  ensureProvider(): boolean;
}

interface LogsRegistry {
  setGlobalLoggerProvider(provider: never): unknown;
  disable(): void;
}

/**
 * Where logger instrumentations look for the provider. From API 1.10 the logs API is part of
 * `@opentelemetry/api`, which the 3.x instrumentations use; `@opentelemetry/winston-transport`
 * still takes it from `@opentelemetry/api-logs` 0.2xx, a registry of its own, so the provider goes
 * into that one too, resolved where the transport resolves it.
 */
function logsRegistries(api: { logs?: LogsRegistry }): LogsRegistry[] {
  const registries: LogsRegistry[] = api.logs ? [api.logs] : [];
  try {
    const { createRequire } = require('node:module') as typeof import('node:module');
    const fromTransport = createRequire(require.resolve('@opentelemetry/winston-transport'));
    const legacy = (fromTransport('@opentelemetry/api-logs') as { logs?: LogsRegistry }).logs;
    if (legacy && !registries.includes(legacy)) registries.push(legacy);
  } catch {
    // No transport installed: nothing reads the older registry.
  }
  return registries;
}

/**
 * Logs are exported only from logger instrumentations: the provider (sdk-logs and an
 * exporter) is built when the first of them loads, which may be never.
 */
export function startLogs({ config, logger, api, diag, resource, redactor }: Globals): Logs {
  return part(logger, (undo) => {
    let sendLogs: boolean | undefined;
    let flush: () => Promise<void> = () => Promise.resolve();
    const ensureProvider = (): boolean => {
      if (sendLogs !== undefined) return sendLogs;
      diag.captureSdkErrors();
      const loggerProvider = createLoggerProvider(config, resource(), [new RedactingLogProcessor(redactor('logs'))]);
      sendLogs = loggerProvider !== undefined;
      if (loggerProvider) {
        const registries = logsRegistries(api);
        for (const logs of registries) logs.setGlobalLoggerProvider(loggerProvider as never);
        flush = () => loggerProvider.forceFlush();
        undo.push(
          () => loggerProvider.shutdown(),
          ...registries.map((logs) => () => logs.disable()),
        );
      }
      return sendLogs;
    };
    return { ensureProvider, flush: () => flush() };
  });
}
