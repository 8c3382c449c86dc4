import { createLoggerProvider } from '../log-records/provider';
import { RedactingLogProcessor } from '../redaction/logs';
import type { Globals } from './globals';
import { part, type Part } from './part';

export interface Logs extends Part {
  /** Builds the provider on the first call; whether log records are exported. */
  ensureProvider(): boolean;
}

/**
 * Logs are exported only from logger instrumentations: the provider (sdk-logs and an
 * exporter) is built when the first of them loads, which may be never.
 */
export function startLogs({ config, logger, diag, resource, redactor }: Globals): Logs {
  return part(logger, (undo) => {
    let sendLogs: boolean | undefined;
    let flush: () => Promise<void> = () => Promise.resolve();
    const ensureProvider = (): boolean => {
      if (sendLogs !== undefined) return sendLogs;
      diag.captureSdkErrors();
      const loggerProvider = createLoggerProvider(config, resource(), [new RedactingLogProcessor(redactor('logs'))]);
      sendLogs = loggerProvider !== undefined;
      if (loggerProvider) {
        const { logs } = require('@opentelemetry/api-logs') as typeof import('@opentelemetry/api-logs');
        logs.setGlobalLoggerProvider(loggerProvider);
        flush = () => loggerProvider.forceFlush();
        undo.push(
          () => loggerProvider.shutdown(),
          () => logs.disable(),
        );
      }
      return sendLogs;
    };
    return { ensureProvider, flush: () => flush() };
  });
}
