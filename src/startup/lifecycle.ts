import { errorClassName } from '../errors/name';
import { exitWindow } from '../export/exit-window';
import { installBeforeExitFlush } from '../lifecycle/before-exit';
import { installCrashHandler } from '../lifecycle/crash';
import { flushUntilQuiet, type FlushTask } from '../lifecycle/flush';
import { installSignalHandlers } from '../lifecycle/signals';
import type { Errors } from './errors';
import type { Globals } from './globals';
import type { Health } from './health';
import type { Metrics } from './metrics';
import { part, type Part } from './part';
import type { Tracing } from './tracing';

/** The process's ends: a signal, a crash, the event loop running dry. Each flushes `tasks` first. */
export function startLifecycle({ config, logger }: Globals, tasks: readonly FlushTask[], { pipeline }: Metrics, errors: Errors, tracing: Tracing, health: Health): Part {
  return part(logger, (undo) => {
    const { activity } = tracing;
    const flushEnding = (keepAlive: boolean) => flushUntilQuiet(tasks, activity, config.shutdownTimeoutMs, keepAlive);
    undo.push(
      installSignalHandlers({ onSignal: () => (health.state.shuttingDown = true), flush: flushEnding, logger }),
      installCrashHandler({
        flush: () => flushEnding(true),
        logger,
        onCrash: (err) => {
          pipeline?.catalog.errors.inc([errorClassName(err) ?? 'UncaughtException', 'fatal']);
          errors.reporter.exception(err, { level: 'fatal', mechanism: 'onuncaughtexception', handled: false });
        },
      }),
      installBeforeExitFlush({ activity, tasks, budgetMs: config.exitTimeoutMs, exit: exitWindow, logger }),
    );
    return {};
  });
}
