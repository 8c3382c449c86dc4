import { writeSync } from 'node:fs';
import type { Logger } from '../logging/logger';
import { throwSite } from './throw-site';

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
 * What Node prints above the stack is the source line of the last throw, ours; see
 * rethrow for how the app's line is printed instead.
 */
export function installCrashHandler({ flush, logger, onCrash }: CrashOptions): () => void {
  let crashing = false;
  const handler = (err: unknown) => {
    // They have seen this error; the rethrow would show it to them a second time.
    const monitors = process.listeners('uncaughtExceptionMonitor');
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
      process.nextTick(() => {
        for (const monitor of monitors) process.removeListener('uncaughtExceptionMonitor', monitor);
        rethrow(err);
      });
    });
  };
  process.on('uncaughtException', handler);
  function uninstall() {
    process.removeListener('uncaughtException', handler);
  }
  return uninstall;
}

/**
 * Node prints the source line of the throw it reports above the stack, and skips it when
 * that line contains `node-do-not-add-exception-line` (as its module loader and vm do for
 * their own rethrows). So the line of this throw carries the marker, as a string: esbuild
 * drops comments. In its place, the app's line, in Node's own layout, printed just before.
 */
function rethrow(error: unknown): never {
  printSync(throwSite(error));
  throw unmarked(error, 'node-do-not-add-exception-line');
}

/** Holds the marker on the throw's line; returns the error untouched. */
function unmarked(error: unknown, _marker: string): unknown {
  return error;
}

/** Synchronous, on the descriptor Node's own report goes to, so the two cannot interleave. */
function printSync(text: string | undefined): void {
  if (!text) return;
  const bytes = Buffer.from(text);
  for (let offset = 0, tries = 0; offset < bytes.length && tries < 100; tries++) {
    try {
      offset += writeSync(2, bytes, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return; // stderr closed: Node's report will not show either
    }
  }
}
