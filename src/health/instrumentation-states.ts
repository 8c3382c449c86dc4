/**
 * Which instrumentations trace, for /api/health and /api/metrics/summary: an operator who sees an
 * empty panel can tell "not loaded yet" from "never will" without reading the start line.
 */

/**
 * active: loaded and patching. deferred: its package is installed, and it loads on the app's first
 * require of it. missing: its target is installed but the instrumentation's package is not.
 * unsupported: its target loaded at a version none of its definitions accept. failed: it could
 * not be built (the line at start says why).
 */
export type InstrumentationState = 'active' | 'deferred' | 'missing' | 'unsupported' | 'failed';

export interface UnsupportedTarget {
  readonly instrumentation: string;
  readonly package: string;
  readonly version: string;
  readonly supported: readonly string[];
}

export interface InstrumentationStates {
  readonly active: readonly string[];
  readonly deferred: readonly string[];
  readonly missing: readonly string[];
  readonly unsupported: readonly UnsupportedTarget[];
  readonly failed: readonly string[];
}

/** Where two processes of a cluster disagree, the state that needs an operator wins. */
const RANK: Readonly<Record<InstrumentationState, number>> = { deferred: 0, active: 1, missing: 2, failed: 3, unsupported: 4 };

export class InstrumentationBook {
  private readonly states = new Map<string, InstrumentationState>();
  private readonly targets = new Map<string, UnsupportedTarget>();

  set(name: string, state: InstrumentationState): void {
    this.states.set(name, state);
  }

  unsupported(target: UnsupportedTarget): void {
    this.states.set(target.instrumentation, 'unsupported');
    this.targets.set(`${target.instrumentation}\0${target.package}`, target);
  }

  report(): InstrumentationStates {
    return mergeStates([this.snapshot()]);
  }

  private snapshot(): InstrumentationStates {
    const named = (state: InstrumentationState) => [...this.states].filter(([, s]) => s === state).map(([n]) => n);
    return { active: named('active'), deferred: named('deferred'), missing: named('missing'), unsupported: [...this.targets.values()], failed: named('failed') };
  }
}

/** One view of several processes' states (a cluster's), each name under the state that ranks highest; sorted. */
export function mergeStates(all: readonly InstrumentationStates[]): InstrumentationStates {
  const best = new Map<string, InstrumentationState>();
  const targets = new Map<string, UnsupportedTarget>();
  const see = (name: string, state: InstrumentationState) => {
    const known = best.get(name);
    if (known === undefined || RANK[state] > RANK[known]) best.set(name, state);
  };
  for (const states of all) {
    for (const state of ['active', 'deferred', 'missing', 'failed'] as const) for (const name of states[state] ?? []) see(String(name), state);
    for (const t of states.unsupported ?? []) {
      see(String(t.instrumentation), 'unsupported');
      targets.set(`${t.instrumentation}\0${t.package}\0${t.version}`, t);
    }
  }
  const named = (state: InstrumentationState) => [...best].filter(([, s]) => s === state).map(([n]) => n).sort();
  const unsupported = [...targets.values()].sort((a, b) => `${a.instrumentation} ${a.package}`.localeCompare(`${b.instrumentation} ${b.package}`));
  return { active: named('active'), deferred: named('deferred'), missing: named('missing'), unsupported, failed: named('failed') };
}

/** A worker's states as they arrived over IPC, or undefined when they are not that shape (another release's). */
export function readStates(value: unknown): InstrumentationStates | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const names = (key: string) => (Array.isArray(v[key]) ? (v[key] as unknown[]).filter((n): n is string => typeof n === 'string') : []);
  const unsupported = Array.isArray(v.unsupported)
    ? (v.unsupported as unknown[]).filter(
        (t): t is UnsupportedTarget =>
          typeof t === 'object' && t !== null && typeof (t as UnsupportedTarget).instrumentation === 'string' && typeof (t as UnsupportedTarget).package === 'string' && typeof (t as UnsupportedTarget).version === 'string',
      ).map((t) => ({ instrumentation: t.instrumentation, package: t.package, version: t.version, supported: Array.isArray(t.supported) ? t.supported.filter((r) => typeof r === 'string') : [] }))
    : [];
  return { active: names('active'), deferred: names('deferred'), missing: names('missing'), unsupported, failed: names('failed') };
}
