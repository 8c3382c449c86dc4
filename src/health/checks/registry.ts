import { describeError } from '../../logging/logger';
import { DEFAULT_REDACTOR, type Redactor } from '../../redaction/policy';
import type { CheckFn, CheckResult } from './types';

export interface CheckOptions {
  /** A failing critical check makes the service unhealthy (503) and not ready. */
  readonly critical?: boolean;
  readonly timeoutMs?: number;
}

export interface CheckOutcome {
  readonly critical: boolean;
  readonly result: CheckResult;
}

interface Registered {
  readonly run: CheckFn;
  readonly critical: boolean;
  readonly timeoutMs: number;
}

/**
 * Dependency checks, cached for `cacheMs` and single-flight: however many probes and
 * dashboards ask at once, each dependency is checked once per period. Each check has a
 * timeout, so a dependency that accepts and never answers still gives an answer.
 */
export class HealthChecks {
  private readonly checks = new Map<string, Registered>();
  private cached: { at: number; outcomes: ReadonlyMap<string, CheckOutcome> } | undefined;
  private inflight: Promise<ReadonlyMap<string, CheckOutcome>> | undefined;

  constructor(
    private readonly cacheMs: number,
    private readonly defaultTimeoutMs: number,
    private readonly now: () => number = Date.now,
    private readonly redactor: Redactor = DEFAULT_REDACTOR,
  ) {}

  register(name: string, run: CheckFn, options: CheckOptions = {}): void {
    this.checks.set(name, {
      run,
      critical: options.critical ?? false,
      timeoutMs: options.timeoutMs ?? this.defaultTimeoutMs,
    });
    this.cached = undefined;
  }

  /** Runs every check's `prepare`, each isolated: a failure now shows up at the check's first run instead. */
  prepare(): void {
    for (const { run } of this.checks.values()) {
      try {
        run.prepare?.();
      } catch {
        // the check reports it when it runs
      }
    }
  }

  get size(): number {
    return this.checks.size;
  }

  /** The last completed results, however old; undefined before the first run ends. */
  latest(): ReadonlyMap<string, CheckOutcome> | undefined {
    return this.cached?.outcomes;
  }

  results(): Promise<ReadonlyMap<string, CheckOutcome>> {
    if (this.cached && this.now() - this.cached.at < this.cacheMs) return Promise.resolve(this.cached.outcomes);
    this.inflight ??= this.runAll().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async runAll(): Promise<ReadonlyMap<string, CheckOutcome>> {
    const entries = await Promise.all(
      // A check's message is shown on the unauthenticated /api/health: an error naming a token must not.
      [...this.checks].map(async ([name, check]) => [name, { critical: check.critical, result: this.redactor.value(await runOne(check)) as CheckResult }] as const),
    );
    const outcomes = new Map(entries);
    this.cached = { at: this.now(), outcomes };
    return outcomes;
  }
}

async function runOne(check: Registered): Promise<CheckResult> {
  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: 'unhealthy', connected: false, responseTime: check.timeoutMs, message: `timed out after ${check.timeoutMs} ms` });
    }, check.timeoutMs);
    timer.unref();
  });
  const run = (async () => {
    try {
      return await check.run(controller.signal);
    } catch (err) {
      return { status: 'unhealthy', responseTime: Math.round(performance.now() - started), message: describeError(err) } as const;
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
