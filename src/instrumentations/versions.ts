import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import type { CatalogEntry } from '../config/instrumentations';

/**
 * A library the app loads at a version none of its instrumentation's definitions accept is
 * left untraced by `@opentelemetry/instrumentation`, with no log at any level: users find out
 * from an empty dashboard (pg 7, NestJS 12, pino 10, redis 5 in upstream's issues). Here that
 * is one warning per package per process, naming the version, where it is, the ranges the
 * instrumentation covers and what to do.
 */

type Parsed = readonly [number, number, number];

/** `9` → [9, -1, -1]: the parts a partial version leaves out are wildcards. */
function parse(version: string): Parsed | undefined {
  const m = /^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?/.exec(version.trim());
  if (!m) return undefined;
  const part = (s: string | undefined) => (s === undefined || /[xX*]/.test(s) ? -1 : Number(s));
  return [part(m[1]), part(m[2]), part(m[3])];
}

function cmp(a: Parsed, b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i]! !== b[i]!) return a[i]! - b[i]!;
  return 0;
}

/** [lower (inclusive), upper (exclusive)] of one comparator; a partial bound widens to its wildcard. */
function comparator(token: string): ((v: Parsed) => boolean) | undefined {
  const m = /^(\^|~|>=|<=|>|<|=)?(.*)$/.exec(token);
  if (!m) return undefined;
  const op = m[1] ?? '=';
  const bound = parse(m[2]!);
  if (!bound) return undefined;
  const [major, minor, patch] = bound;
  if (major < 0) return () => true;
  const low = [major, Math.max(minor, 0), Math.max(patch, 0)];
  // The first version past the bound's wildcard: `<9` means below 9.0.0, `<=9` below 10.0.0.
  const next = minor < 0 ? [major + 1, 0, 0] : patch < 0 ? [major, minor + 1, 0] : [major, minor, patch + 1];
  switch (op) {
    case '^': {
      const upper = major > 0 || minor < 0 ? [major + 1, 0, 0] : minor > 0 || patch < 0 ? [0, minor + 1, 0] : [0, 0, patch + 1];
      return (v) => cmp(v, low) >= 0 && cmp(v, upper) < 0;
    }
    case '~': {
      const upper = minor < 0 ? [major + 1, 0, 0] : [major, minor + 1, 0];
      return (v) => cmp(v, low) >= 0 && cmp(v, upper) < 0;
    }
    case '>=':
      return (v) => cmp(v, low) >= 0;
    case '>':
      return (v) => cmp(v, next) >= 0;
    case '<':
      return (v) => cmp(v, low) < 0;
    case '<=':
      return (v) => cmp(v, next) < 0;
    default:
      return (v) => cmp(v, low) >= 0 && cmp(v, next) < 0;
  }
}

/**
 * npm's range syntax as instrumentations write their supported versions (`>=8.0.3 <9`, `^5.0.0`,
 * `4.x`, `*`, alternatives with `||`), on release versions. undefined when a range is beyond
 * this reader (a hyphen range, say): then no warning is given, never a false one.
 */
export function satisfies(version: string, range: string): boolean | undefined {
  const v = parse(version);
  if (!v || v.some((n) => n < 0)) return undefined;
  let readable = true;
  const any = range.split('||').some((alternative) => {
    const tokens = alternative.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    if (tokens.includes('-')) {
      readable = false;
      return false;
    }
    return tokens.every((token) => {
      const test = comparator(token);
      if (!test) readable = false;
      return test ? test(v) : false;
    });
  });
  return any ? true : readable ? false : undefined;
}

export interface Installed {
  readonly version: string;
  readonly dir: string;
}

/** The version of `pkg` that `require(pkg)` from `fromFile` would load; undefined when it resolves nowhere. */
export function installedFrom(pkg: string, fromFile: string): Installed | undefined {
  let file: string;
  try {
    file = createRequire(fromFile).resolve(pkg);
  } catch {
    return undefined;
  }
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (name === pkg && version) return { version, dir };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Every range the instrumentations accept for `pkg`, the package's own and its files'; empty when none names it. */
export function rangesFor(instrumentations: readonly Instrumentation[], pkg: string): string[] {
  const ranges: string[] = [];
  for (const instrumentation of instrumentations) {
    const definitions = (instrumentation as { getModuleDefinitions?: () => ReadonlyArray<{ name: string; supportedVersions: string[]; files?: ReadonlyArray<{ supportedVersions: string[] }> }> }).getModuleDefinitions?.() ?? [];
    for (const d of definitions) if (d.name === pkg) ranges.push(...d.supportedVersions, ...(d.files ?? []).flatMap((f) => f.supportedVersions));
  }
  return [...new Set(ranges)];
}

/** The one warning for `pkg` at `installed` when none of `ranges` accepts it; undefined when one does (or none can be read). */
export function unsupportedVersion(name: string, instrumentationPkg: string, pkg: string, installed: Installed, ranges: readonly string[]): string | undefined {
  if (ranges.length === 0) return undefined;
  const verdicts = ranges.map((range) => satisfies(installed.version, range));
  if (verdicts.some((v) => v !== false)) return undefined;
  return (
    `${pkg} ${installed.version} (${installed.dir}) is outside what instrumentation ${name} supports (${ranges.join(', ')}), so ${pkg} is not traced: ` +
    `move ${pkg} to a supported version, install a newer ${instrumentationPkg} if one covers it, or add ${name} to OTEL_NODE_DISABLED_INSTRUMENTATIONS`
  );
}

export interface VersionWarning {
  readonly pkg: string;
  readonly installed: Installed;
  /** The ranges its instrumentation covers. */
  readonly supported: readonly string[];
  readonly message: string;
}

/**
 * The warnings for catalog entry `name`: its targets as `require` from `from` (files, in order)
 * finds them, and the ones those depend on (redis's @redis/client sits under redis), against the
 * ranges `instrumentations` declare.
 */
export function entryVersionWarnings(name: string, entry: CatalogEntry, instrumentations: readonly Instrumentation[], from: readonly string[]): VersionWarning[] {
  const found = new Map<string, Installed>();
  for (const pkg of entry.modules) {
    const places = [...from, ...[...found.values()].map((i) => join(i.dir, 'package.json'))];
    const installed = places.map((file) => installedFrom(pkg, file)).find((i) => i !== undefined);
    if (installed) found.set(pkg, installed);
  }
  const verdicts = [...found].map(([pkg, installed]) => {
    const supported: readonly string[] = rangesFor(instrumentations, pkg);
    return { pkg, installed, supported, message: unsupportedVersion(name, entry.pkg, pkg, installed, supported) };
  });
  if (entry.anyTarget && verdicts.some((v) => v.message === undefined)) return [];
  return verdicts.filter((v): v is VersionWarning => v.message !== undefined);
}
