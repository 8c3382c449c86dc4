/**
 * Calls the openai instrumentation already counted, so that the seed's
 * `trackAIRequest(...)` after such a call does not count it twice. A call is matched
 * by model and time (it started after the caller's startTime and ended before the
 * caller reported it), which holds whether or not tracing is on.
 */
interface Entry {
  readonly models: readonly string[];
  readonly startMs: number;
  readonly endMs: number;
  claimed: boolean;
}

const MAX_ENTRIES = 1024;
const MAX_AGE_MS = 60_000;

export class AiLedger {
  private entries: Entry[] = [];

  add(models: readonly string[], startMs: number, endMs: number): void {
    if (this.entries.length >= MAX_ENTRIES) this.entries = this.entries.slice(MAX_ENTRIES / 2);
    this.entries.push({ models, startMs, endMs, claimed: false });
  }

  /** True when an instrumented call matches and is now claimed: the caller must not count it again. */
  claim(model: string, callerStartMs: number, nowMs: number): boolean {
    this.entries = this.entries.filter((e) => nowMs - e.endMs < MAX_AGE_MS);
    // Allow 1 ms of clock rounding between Date.now() and span timestamps.
    const match = this.entries.find(
      (e) => !e.claimed && e.models.includes(model) && e.startMs >= callerStartMs - 1 && e.endMs <= nowMs + 1,
    );
    if (!match) return false;
    match.claimed = true;
    return true;
  }
}
