import { VARIABLES, type Env, type VariableName } from './variables';
import { DEFAULT_REDACTOR, REDACTED, redactUrl } from '../redaction/policy';

export interface ConfigWarning {
  readonly variable: VariableName;
  readonly message: string;
}

interface Range {
  readonly min?: number;
  readonly max?: number;
}

const MAX_SHOWN = 80;

/**
 * Total readers over an env object: a bad value never throws, it records one warning
 * naming the variable, the value and the fallback, and the fallback is used.
 * Blank values count as unset, as the OpenTelemetry spec asks.
 */
export class EnvReader {
  readonly warnings: ConfigWarning[] = [];

  constructor(private readonly env: Env) {}

  raw(name: VariableName): string | undefined {
    const value = this.env[name];
    if (typeof value !== 'string') return undefined;
    const trimmed = value.trim();
    return trimmed === '' ? undefined : trimmed;
  }

  string(name: VariableName): string | undefined {
    return this.raw(name);
  }

  matching(name: VariableName, pattern: RegExp, expected: string, fallback: string): string {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    return pattern.test(value) ? value : this.invalid(name, value, expected, fallback);
  }

  boolean(name: VariableName, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    return this.invalid(name, value, 'expected true or false', fallback);
  }

  integer<F extends number | undefined>(name: VariableName, fallback: F, range: Range = {}): number | F {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^[+-]?\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isSafeInteger(parsed) && inRange(parsed, range)) return parsed;
    return this.invalid(name, value, `expected an integer${describeRange(range)}`, fallback);
  }

  optionalInteger(name: VariableName, range: Range = {}): number | undefined {
    return this.integer(name, undefined, range);
  }

  number(name: VariableName, fallback: number, range: Range = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? Number(value) : NaN;
    if (Number.isFinite(parsed) && inRange(parsed, range)) return parsed;
    return this.invalid(name, value, `expected a number${describeRange(range)}`, fallback);
  }

  oneOf<T extends string>(name: VariableName, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const lower = value.toLowerCase() as T;
    if (allowed.includes(lower)) return lower;
    return this.invalid(name, value, `expected one of ${allowed.join('|')}`, fallback);
  }

  /**
   * A comma list. Unknown members are dropped with one warning for the variable;
   * when nothing valid is left the fallback is used.
   */
  list<T extends string>(
    name: VariableName,
    allowed: readonly T[] | undefined,
    fallback: readonly T[],
    fallbackText?: string,
  ): readonly T[] {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    // Names are case-insensitive; free-form members (paths) are kept as written.
    const members = value
      .split(',')
      .map((m) => (allowed ? m.trim().toLowerCase() : m.trim()))
      .filter((m) => m !== '');
    const unknown = allowed ? members.filter((m) => !allowed.includes(m as T)) : [];
    const known = [...new Set(members.filter((m) => !unknown.includes(m)))] as T[];
    if (unknown.length === 0 && known.length > 0) return known;
    const result = known.length > 0 ? known : fallback;
    const expected = allowed ? `unknown ${unknown.join(', ') || 'value'}; expected some of ${allowed.join(',')}` : 'expected a comma list';
    return this.invalid(name, value, expected, result, known.length > 0 ? undefined : fallbackText);
  }

  /**
   * Regular expressions: one, or a JSON array of them (a comma is too common inside a pattern
   * to separate them). A pattern that does not compile is dropped with a warning.
   */
  patterns(name: VariableName): readonly RegExp[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    let sources: unknown = [value];
    if (value.startsWith('[')) {
      try {
        sources = JSON.parse(value);
      } catch {
        return this.invalid(name, value, 'expected a regular expression or a JSON array of them', []);
      }
    }
    if (!Array.isArray(sources)) return this.invalid(name, value, 'expected a regular expression or a JSON array of them', []);
    const out: RegExp[] = [];
    const bad: string[] = [];
    for (const source of sources) {
      try {
        if (typeof source !== 'string' || source === '') throw new Error('not a string');
        out.push(new RegExp(source, 'g'));
      } catch {
        bad.push(String(source));
      }
    }
    if (bad.length > 0) this.invalid(name, value, `${bad.length} pattern(s) do not compile`, out, out.length > 0 ? `the other ${out.length}` : 'none');
    return out;
  }

  url(name: VariableName, schemes: readonly string[] = ['http', 'https']): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (schemes.includes(url.protocol.slice(0, -1)) && url.hostname !== '') return value;
    } catch {
      // reported below
    }
    const expected = schemes.join() === 'http,https' ? 'an http(s) URL' : `a ${schemes.join(' or ')} URL`;
    return this.invalid(name, value, `expected ${expected}`, undefined);
  }

  /** `k=v,k2=v2` with percent-encoded values (W3C baggage style, as OTEL_*_HEADERS and OTEL_RESOURCE_ATTRIBUTES use). */
  keyValues(name: VariableName): Readonly<Record<string, string>> {
    const value = this.raw(name);
    if (value === undefined) return {};
    // Entries, not assignment: a key named __proto__ must be kept like any other, not swallowed by the setter.
    const entries: Array<[string, string]> = [];
    const bad: string[] = [];
    for (const entry of value.split(',')) {
      if (entry.trim() === '') continue;
      const eq = entry.indexOf('=');
      const key = eq > 0 ? entry.slice(0, eq).trim() : '';
      const decoded = eq > 0 ? safeDecode(entry.slice(eq + 1).trim()) : undefined;
      if (key === '' || decoded === undefined || !/^[\x21-\x7e]+$/.test(key)) {
        bad.push(entry);
        continue;
      }
      entries.push([key, decoded]);
    }
    const out: Record<string, string> = Object.fromEntries(entries);
    if (bad.length > 0) {
      const kept = Object.keys(out);
      this.invalid(
        name,
        value,
        `${bad.length} malformed entr${bad.length === 1 ? 'y' : 'ies'} (expected key=value)`,
        undefined,
        kept.length > 0 ? `the well-formed keys ${kept.join(', ')}` : 'nothing',
      );
    }
    return out;
  }

  private invalid<T>(name: VariableName, value: string, expected: string, fallback: T, fallbackText?: string): T {
    this.warnings.push({
      variable: name,
      message: `Invalid ${name}=${show(name, value)} (${expected}); using ${fallbackText ?? describe(fallback)}`,
    });
    return fallback;
  }
}

function show(name: VariableName, value: string): string {
  const spec = VARIABLES[name];
  // A secret pasted into the wrong variable (`INNATURAL_HEALTH_AI_KEY_ENV=sk-...`) is still a secret.
  if (('secret' in spec && spec.secret) || DEFAULT_REDACTOR.isSecretKey(name)) return REDACTED;
  const shown = spec.kind === 'url' ? redactUrl(value) : DEFAULT_REDACTOR.text(value);
  return JSON.stringify(shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown);
}

function describe(value: unknown): string {
  if (value === undefined) return 'the default';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

function inRange(n: number, { min, max }: Range): boolean {
  return (min === undefined || n >= min) && (max === undefined || n <= max);
}

function describeRange({ min, max }: Range): string {
  if (min !== undefined && max !== undefined) return ` in [${min}, ${max}]`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}
