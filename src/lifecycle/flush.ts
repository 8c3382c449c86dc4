/** Flushes one pipeline; `timeoutMs` is the budget, for pipelines with a timeout of their own (Sentry's). */
export type FlushTask = (timeoutMs: number) => Promise<unknown>;

const underWay = new Set<Promise<void>>();

/**
 * The flushes not finished yet, as one promise; undefined when there are none. Our sockets do
 * not hold the event loop: the beforeExit flush holds it for these instead (see installBeforeExitFlush).
 */
export function flushesUnderWay(): Promise<void> | undefined {
  return underWay.size === 0 ? undefined : Promise.allSettled([...underWay]).then(() => undefined);
}

/** Flushes in parallel and gives up after `timeoutMs`; never rejects. */
export function flushWithin(tasks: readonly FlushTask[], timeoutMs: number, keepAlive = false): Promise<void> {
  const flushing = flushOnce(tasks, timeoutMs, keepAlive);
  underWay.add(flushing);
  void flushing.finally(() => underWay.delete(flushing));
  return flushing;
}

async function flushOnce(tasks: readonly FlushTask[], timeoutMs: number, keepAlive: boolean): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    // While crashing or re-raising a signal we must outlive the flush; otherwise never hold the app open.
    if (!keepAlive) timer.unref();
  });
  const all = Promise.allSettled(
    tasks.map(async (task) => {
      await task(timeoutMs);
    }),
  ).then(() => undefined);
  try {
    await Promise.race([all, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * As flushWithin, repeated while spans ended during the flush, within one overall budget.
 * At a crash or a signal the app's servers keep answering while we flush; the requests they
 * finish meanwhile are telemetry too. Resolves when a flush saw nothing new: the caller can
 * then act synchronously (throw, re-raise) before any further I/O ends another span.
 */
export async function flushUntilQuiet(
  tasks: readonly FlushTask[],
  activity: { dirty: boolean },
  timeoutMs: number,
  keepAlive = false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; round < 10; round++) {
    activity.dirty = false;
    await flushWithin(tasks, Math.max(0, deadline - Date.now()), keepAlive);
    if (!activity.dirty || Date.now() >= deadline) return;
  }
}
