import type { Logger } from '../logging/logger';

export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export interface SignalOptions {
  /** Called at the first signal, before the flush (readiness goes to 503 here). */
  readonly onSignal: (signal: NodeJS.Signals) => void;
  readonly flush: (keepAlive: boolean) => Promise<void>;
  readonly logger: Logger;
}

/**
 * Flushes at SIGTERM/SIGINT while keeping Node's semantics. Our listener alone would
 * stop Node's default "die by the signal"; so when the app has no listener of its own
 * we re-raise the signal after the flush and the process ends exactly as it would
 * have. When the app has one, the app decides and we never exit for it.
 */
export function installSignalHandlers({ onSignal, flush, logger }: SignalOptions): () => void {
  let received = false;
  const appListens = (signal: NodeJS.Signals) => process.listenerCount(signal) > 1;

  const reraise = (signal: NodeJS.Signals) => {
    uninstall();
    process.kill(process.pid, signal);
  };

  const handler = (signal: NodeJS.Signals) => {
    if (received) {
      // A second signal: the user wants out now, as Node's default would give them.
      if (!appListens(signal)) reraise(signal);
      return;
    }
    received = true;
    logger.debug(`${signal} received: flushing telemetry`);
    try {
      onSignal(signal);
    } catch {
      // readiness bookkeeping must not stand between the signal and the flush
    }
    const appHandles = appListens(signal);
    void flush(!appHandles).then(() => {
      if (!appListens(signal)) reraise(signal);
    });
  };

  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, handler);
  function uninstall() {
    for (const signal of SHUTDOWN_SIGNALS) process.removeListener(signal, handler);
  }
  return uninstall;
}
