/**
 * Polls `probe` every 25 ms until it returns something truthy; on timeout rejects with
 * `describe()`'s account of what was seen, so a failing test says why.
 */
export function waitFor<T>(
  probe: () => T | undefined | null | false,
  timeoutMs: number,
  who: string,
  describe: () => string,
): Promise<T> {
  return eventually(() => Promise.resolve(probe()), timeoutMs, who, describe, 25);
}

/** As waitFor, for a probe that must await (an HTTP scrape, a file read). */
export async function eventually<T>(
  probe: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  who: string,
  describe: () => string,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await probe();
    if (result) return result;
    if (Date.now() >= deadline) throw new Error(`${who}: nothing matched within ${timeoutMs} ms; ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
