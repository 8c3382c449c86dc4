import type { ConfigWarning } from '../config/parse';
import { VARIABLES, type Env } from '../config/variables';
import type { Finding } from './findings';

const PREFIXES = /^(OTEL|INNATURAL|SENTRY)_/;

/** Read by other tools (sentry-cli uploads source maps with these), not mistakes in our config. */
const OTHER_TOOLS = new Set(['SENTRY_AUTH_TOKEN', 'SENTRY_ORG', 'SENTRY_PROJECT', 'SENTRY_URL', 'SENTRY_LOG_LEVEL', 'SENTRY_PROPERTIES']);

/** Levenshtein distance, bounded: beyond `max` the exact figure does not matter. */
export function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/** The known name closest to `name`, when it is close enough to be a typo of it. */
export function didYouMean(name: string, known: readonly string[]): string | undefined {
  const max = Math.max(2, Math.floor(name.length / 6));
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    const d = distance(name, candidate, max);
    if (d <= max && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

/** OTEL_*, INNATURAL_* and SENTRY_* variables the preload does not read: usually a typo. */
export function unknownVariables(env: Env): Finding[] {
  const known = Object.keys(VARIABLES);
  const findings: Finding[] = [];
  for (const name of Object.keys(env).sort()) {
    if (!PREFIXES.test(name) || name in VARIABLES || OTHER_TOOLS.has(name) || env[name] === undefined) continue;
    const guess = didYouMean(name, known);
    findings.push({
      level: 'warn',
      subject: name,
      message: guess ? `not a variable @innatural/otel reads; did you mean ${guess}?` : 'not a variable @innatural/otel reads; it has no effect',
    });
  }
  return findings;
}

/** The resolver's own warnings (a value it could not use, and what it used instead). */
export function malformedValues(warnings: readonly ConfigWarning[]): Finding[] {
  return warnings.map((w) => ({ level: 'warn', subject: w.variable, message: w.message }));
}
