import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * Which copy of `@opentelemetry/api` registers the SDK's globals.
 *
 * Every copy reads the same global registry (`Symbol.for('opentelemetry.js.api.<major>')`), but
 * only a copy of the registry's exact version may register into it, and a copy uses the globals
 * only when the registry's version has its major and an equal or higher minor. An app that brings
 * API 1.10 while the SDK's copy is 1.9 therefore saw nothing of what 1.9 registered: its manual
 * spans were dropped (nested copy), or, when the instrumentations resolved the app's copy
 * (hoisted), no span at all was made. Registering with the newest copy present satisfies every
 * copy of the same major; a copy of another major can never see these globals, and says so.
 */

export const API = '@opentelemetry/api';
type Api = typeof import('@opentelemetry/api');

export interface ApiCopy {
  readonly version: string;
  /** The file `require('@opentelemetry/api')` loads there: one module instance per copy. */
  readonly entry: string;
  /** The package's folder, for messages. */
  readonly dir: string;
  /** Who resolves this copy: `@innatural/otel`, `the instrumentations`, `the app`. */
  readonly users: readonly string[];
}

export interface ApiConflict {
  readonly copy: ApiCopy;
  /** One sentence: both versions, the consequence and the fix. */
  readonly message: string;
}

export interface ApiPlan {
  /** The copy whose registerGlobal the SDK uses; undefined when none can register (see conflicts). */
  readonly registrar: ApiCopy | undefined;
  readonly copies: readonly ApiCopy[];
  readonly conflicts: readonly ApiConflict[];
}

interface Version {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: boolean;
}

const VERSION_RE = /^(\d+)\.(\d+)\.(\d+)(-.+)?$/;

function parse(version: string): Version | undefined {
  const m = VERSION_RE.exec(version);
  return m ? { major: +m[1]!, minor: +m[2]!, patch: +m[3]!, prerelease: m[4] !== undefined } : undefined;
}

/** The API's own rule (internal/semver.ts): may a copy of `own` use globals registered by `registered`? */
export function accepts(own: string, registered: string): boolean {
  if (own === registered) return true;
  const a = parse(own);
  const b = parse(registered);
  if (!a || !b || a.prerelease || b.prerelease || a.major !== b.major) return false;
  if (a.major === 0) return a.minor === b.minor && a.patch <= b.patch;
  return a.minor <= b.minor;
}

function newer(a: ApiCopy, b: ApiCopy): ApiCopy {
  const x = parse(a.version)!;
  const y = parse(b.version)!;
  return y.minor > x.minor || (y.minor === x.minor && y.patch > x.patch) ? b : a;
}

function who(copy: ApiCopy): string {
  const users = copy.users.join(' and ');
  return `${users[0]!.toUpperCase()}${users.slice(1)}'s ${API} ${copy.version} (${copy.dir})`;
}

function fixFor(copy: ApiCopy, registrar: string): string {
  const target = parse(registrar);
  const range = target ? `^${target.major}.${target.minor}.0` : registrar;
  const what = parse(copy.version)?.prerelease ? 'a released version' : 'the major the SDK uses';
  return `fix: npm install ${API}@${range} (${what})`;
}

/**
 * Picks the registrar among the copies found, `ours` first. `registered`: the version of a
 * registry some other code created before us, which fixes the version that may register.
 */
export function planApi(copies: readonly ApiCopy[], registered?: string): ApiPlan {
  const ours = copies[0];
  if (!ours) return { registrar: undefined, copies, conflicts: [] };
  const major = parse(ours.version)?.major;
  let registrar: ApiCopy | undefined;
  if (registered !== undefined) {
    registrar = copies.find((c) => c.version === registered);
  } else {
    const candidates = copies.filter((c) => {
      const v = parse(c.version);
      return v !== undefined && !v.prerelease && v.major === major;
    });
    registrar = candidates.length > 0 ? candidates.reduce(newer) : ours;
  }
  if (!registrar) {
    const message =
      `@opentelemetry/api ${registered} registered the OpenTelemetry globals before @innatural/otel started, ` +
      `and no copy here has that version (${copies.map((c) => c.version).join(', ')}): the SDK cannot register its providers ` +
      `and no telemetry is made; load @innatural/otel first (node --require @innatural/otel/register), or align the versions`;
    return { registrar: undefined, copies, conflicts: [{ copy: ours, message }] };
  }
  const version = registrar.version;
  const conflicts = copies
    .filter((c) => !accepts(c.version, version))
    .map((copy) => ({
      copy,
      message:
        `${who(copy)} cannot use the OpenTelemetry globals, which @innatural/otel registers with ${API} ${version}: ` +
        `spans, metrics and context made through it are dropped; ${fixFor(copy, version)}`,
    }));
  return { registrar, copies, conflicts };
}

/** The package above a resolved entry file. */
function packageAbove(entry: string): { dir: string; version: string } | undefined {
  for (let dir = dirname(entry); dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      // Nested package.json files without a name (build/esm's {"type": "module"}) are not the package's.
      if (pkg.name === undefined) continue;
      return pkg.name === API && typeof pkg.version === 'string' ? { dir, version: pkg.version } : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function resolveFrom(file: string): string | undefined {
  try {
    return createRequire(file).resolve(API);
  } catch {
    return undefined;
  }
}

/** The packages that share the SDK's globals through their own resolution of the API. */
const SDK_PACKAGES = ['@opentelemetry/core', '@opentelemetry/instrumentation', '@opentelemetry/auto-instrumentations-node'];

/**
 * Every distinct copy the SDK, its instrumentations and the app resolve, ours first. Resolution
 * only (a few stats per place): nothing is loaded. `self` is a file of our package.
 */
export function findApiCopies(appDirs: readonly string[], self: string = __filename): ApiCopy[] {
  const found = new Map<string, { dir: string; version: string; users: string[] }>();
  const add = (entry: string | undefined, user: string) => {
    if (entry === undefined) return;
    const known = found.get(entry);
    if (known) {
      if (!known.users.includes(user)) known.users.push(user);
      return;
    }
    const pkg = packageAbove(entry);
    if (pkg) found.set(entry, { ...pkg, users: [user] });
  };
  add(resolveFrom(self), '@innatural/otel');
  const ourRequire = createRequire(self);
  for (const pkg of SDK_PACKAGES) {
    let location: string | undefined;
    try {
      location = ourRequire.resolve(pkg);
    } catch {
      continue;
    }
    add(resolveFrom(location), 'the instrumentations');
  }
  // A file that need not exist: resolution starts from its folder, as the app's own require does.
  for (const dir of appDirs) add(resolveFrom(join(dir, '__innatural_otel__.js')), 'the app');
  return [...found].map(([entry, { dir, version, users }]) => ({ entry, dir, version, users }));
}

/** The version of a registry already on globalThis, if any (read through its own getter: may throw, as the API would). */
export function registeredVersion(major: number): string | undefined {
  const registry = (globalThis as Record<symbol, { version?: unknown } | undefined>)[Symbol.for(`opentelemetry.js.api.${major}`)];
  return typeof registry?.version === 'string' ? registry.version : undefined;
}

/** The registrar's module; ours (the bundled import) when it is the registrar or none can be. */
export function loadRegistrar(plan: ApiPlan, ours: Api): Api {
  const entry = plan.registrar?.entry;
  if (entry === undefined || entry === plan.copies[0]?.entry) return ours;
  return require(entry) as Api;
}
