import type { Logger } from '../logging/logger';

export interface CrashOptions {
  readonly flush: () => Promise<void>;
  readonly logger: Logger;
  /** Counted before the flush so the error reaches the exporters with it. */
  readonly onCrash?: (err: unknown) => void;
}

/**
 * Flushes before an uncaught exception (or an unhandled rejection Node turns into one)
 * ends the process. Listening to 'uncaughtException' would keep the process alive, so
 * when the app has no listener of its own we take ours off after the flush and throw
 * the same value again: Node then prints it and exits with status 1, as without us.
 */
export function installCrashHandler({ flush, logger, onCrash }: CrashOptions): () => void {
  let crashing = false;
  const handler = (err: unknown) => {
    try {
      onCrash?.(err);
    } catch {
      // counting must never stand between the app and its crash
    }
    const appHandles = process.listenerCount('uncaughtException') > 1;
    if (appHandles) {
      void flush();
      return;
    }
    if (crashing) return; // Node would already be gone; the first error is the one reported
    crashing = true;
    logger.debug('Uncaught exception: flushing telemetry before the process ends');
    void flush().then(() => {
      uninstall();
      if (process.listenerCount('uncaughtException') > 0) return; // the app took over meanwhile
      // nextTick, not setImmediate: no I/O may run (and end another span) between the last flush and the throw.
      process.nextTick(rethrow, err);
    });
  };
  process.on('uncaughtException', handler);
  function uninstall() {
    process.removeListener('uncaughtException', handler);
  }
  return uninstall;
}

/** Node prints the throw site's source line above the stack; let that line explain itself. */
function rethrow(error: unknown): never {
  throw error; // @innatural/otel re-throws the app's uncaught error after flushing telemetry; the app's own stack follows
}
