import type { FlushTask } from '../lifecycle/flush';
import { describeError, type Logger } from '../logging/logger';

/** What each start* returns. boot flushes them together and shuts them down in reverse order of start. */
export interface Part {
  readonly flush: FlushTask;
  shutdown(): Promise<void>;
}

const NOTHING_TO_FLUSH: FlushTask = () => Promise.resolve();

/**
 * Builds one part. `undo` collects what it installs, including what it installs later (a
 * provider built on first use); a failure halfway takes down what was installed so far.
 */
export function part<T extends object>(logger: Logger, build: (undo: Array<() => unknown>) => T & { flush?: FlushTask }): T & Part {
  const undo: Array<() => unknown> = [];
  try {
    return { flush: NOTHING_TO_FLUSH, ...build(undo), shutdown: () => runUndo(undo, logger) };
  } catch (err) {
    void runUndo(undo, logger);
    throw err;
  }
}

/** Reverse order; each step isolated so one failure does not leave the rest installed. */
export async function runUndo(undo: Array<() => unknown>, logger: Logger): Promise<void> {
  while (undo.length > 0) {
    const step = undo.pop()!;
    try {
      await step();
    } catch (err) {
      logger.debug(`Shutdown step failed: ${describeError(err)}`);
    }
  }
}
