import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { Signal } from '../config/resolve';
import type { ExitWindow } from '../export/exit-window';
import type { Logger } from '../logging/logger';
import { flushesUnderWay, flushWithin, type FlushTask } from './flush';

/**
 * Set when telemetry was produced since the last flush. 'beforeExit' fires again after
 * any async work its listeners start, our own flush included; flushing only when
 * something new was produced is what lets the process end.
 */
export class Activity implements SpanProcessor {
  dirty = true;
  onStart(): void {}
  onEnd(): void {
    this.dirty = true;
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export interface BeforeExitOptions {
  readonly activity: Activity;
  readonly tasks: readonly FlushTask[];
  /** INNATURAL_EXIT_TIMEOUT_MS. */
  readonly budgetMs: number;
  readonly exit: ExitWindow;
  readonly logger: Logger;
}

const UNITS: Record<Signal, [string, string]> = {
  traces: ['span', 'spans'],
  logs: ['log record', 'log records'],
  metrics: ['metric point', 'metric points'],
};

/**
 * The app's work is done (the event loop is empty): one last flush, within its own short
 * budget. Nothing of ours holds the loop (sockets, retries and timers are unref'd), so only
 * this flush's deadline keeps the process up, for the budget at most; within it the
 * exporters try each export once (see ExitWindow) and what they could not send is one line.
 * A flush already under way (a signal's, a crash's, the app's own shutdown()) is waited
 * for instead, within its own budget, as its sockets used to hold the process for it.
 */
export function installBeforeExitFlush({ activity, tasks, budgetMs, exit, logger }: BeforeExitOptions): () => void {
  let flushing = false;
  const handler = () => {
    if (flushing) return;
    const underWay = flushesUnderWay();
    if (underWay) {
      flushing = true;
      const hold = setInterval(() => {}, 1 << 30);
      void underWay.finally(() => {
        clearInterval(hold);
        flushing = false;
      });
      return;
    }
    if (!activity.dirty) return;
    activity.dirty = false;
    flushing = true;
    exit.open(budgetMs);
    void flushWithin([...tasks, () => exit.idle()], budgetMs, true).finally(() => {
      flushing = false;
      report(exit.close(), budgetMs, logger);
    });
  };
  process.on('beforeExit', handler);
  return () => process.removeListener('beforeExit', handler);
}

function report({ unsent, cause }: ReturnType<ExitWindow['close']>, budgetMs: number, logger: Logger): void {
  if (unsent.size === 0) return;
  const counts = [...unsent].map(([signal, n]) => `${n} ${UNITS[signal][n === 1 ? 0 : 1]}`);
  logger.warn(`Telemetry not sent at exit: ${counts.join(', ')} (${cause}); the exit flush waits at most ${budgetMs} ms (INNATURAL_EXIT_TIMEOUT_MS)`, {
    unsent: Object.fromEntries(unsent),
    exitTimeoutMs: budgetMs,
  });
}
