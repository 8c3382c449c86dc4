/** Flushes in parallel and gives up after `timeoutMs`; never rejects. */
export async function flushWithin(tasks: ReadonlyArray<() => Promise<unknown>>, timeoutMs: number, keepAlive = false): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    // While crashing or re-raising a signal we must outlive the flush; otherwise never hold the app open.
    if (!keepAlive) timer.unref();
  });
  const all = Promise.allSettled(
    tasks.map(async (task) => {
      await task();
    }),
  ).then(() => undefined);
  try {
    await Promise.race([all, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
