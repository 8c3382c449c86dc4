import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { resolveOptional } from '../modules';

/**
 * Whether an instrumentation package can work with the `@opentelemetry/instrumentation` base and
 * the `@opentelemetry/api` it resolves, read from the installed files (nothing is required).
 * OpenTelemetry JS 3.x changed both: its instrumentation base (0.300 and later) needs API 1.10,
 * whose logs API it reads at construction, so on an older API copy it fails with a bare
 * `Cannot read properties of undefined (reading 'getLogger')`; a 2.x-line package (base 0.2xx)
 * still works beside us, but npm marks its peers invalid and it loads a second base.
 */

interface Installed {
  readonly name: string;
  readonly version: string;
  readonly dir: string;
  readonly peers: Readonly<Record<string, string>>;
}

/** The installed package that `file` belongs to: the first package.json above it that has a name. */
function packageOfFile(file: string): Installed | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    try {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string; peerDependencies?: Record<string, string> };
      if (!pkg.name || !pkg.version) continue;
      return { name: pkg.name, version: pkg.version, dir, peers: pkg.peerDependencies ?? {} };
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function resolvedFrom(dir: string, pkg: string): Installed | undefined {
  try {
    return packageOfFile(createRequire(join(dir, 'package.json')).resolve(pkg));
  } catch {
    return undefined;
  }
}

const numbers = (version: string): number[] => version.split(/[.+-]/).slice(0, 3).map(Number);

function compare(a: string, b: string): number {
  const [x, y] = [numbers(a), numbers(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** The lowest version a peer range admits (`>=1.10.0 <1.11.0`, `^1.10.0` → 1.10.0); undefined when it has none. */
export function minimumOf(range: string): string | undefined {
  const bounds = range
    .split('||')
    .map((alternative) => /(?:^|\s)(?:>=|\^|~|=)?v?(\d+\.\d+\.\d+)/.exec(alternative.trim())?.[1])
    .filter((v): v is string => v !== undefined);
  return bounds.length === 0 ? undefined : bounds.sort(compare)[0];
}

export interface Compat {
  readonly level: 'error' | 'warn';
  readonly message: string;
}

const BASE = '@opentelemetry/instrumentation';
const API = '@opentelemetry/api';
/** The first instrumentation base of OpenTelemetry JS's 3.x line. */
const THREE_X_BASE = '0.300.0';

/**
 * What stands between instrumentation `name` (its package's main file at `entry`) and working
 * here, in one line naming the versions and the fix; undefined when nothing does.
 */
export function instrumentationCompat(name: string, entry: string): Compat | undefined {
  const pkg = packageOfFile(entry);
  if (!pkg) return undefined;
  const base = resolvedFrom(pkg.dir, BASE);
  if (!base) return undefined;
  const api = resolvedFrom(base.dir, API);
  const apiRange = base.peers[API];
  const built = `${pkg.name} ${pkg.version} is built on ${BASE} ${base.version}`;
  // Checked first: a 2.x-line base works on API 1.10 too (its peer range says < 1.10, the API is compatible).
  if (compare(base.version, THREE_X_BASE) < 0) {
    return {
      level: 'warn',
      message:
        `Instrumentation ${name}: ${built}, of OpenTelemetry JS's 2.x line, beside this preload's 3.x line: it is traced, but npm reports its peer dependencies as invalid ` +
        `and it loads a second instrumentation base; fix: npm install ${pkg.name}@latest`,
    };
  }
  // Only an older API breaks it: a newer minor keeps every 1.x interface (the range's upper bound is npm's, not the API's).
  const minimum = apiRange === undefined ? undefined : minimumOf(apiRange);
  if (api && minimum && compare(api.version, minimum) < 0) {
    const wanted = minimum.replace(/\.\d+$/, '');
    return {
      level: 'error',
      message:
        `Instrumentation ${name} cannot work here: ${built}, which needs ${API} ${apiRange}, but it resolves ${API} ${api.version} (${api.dir}), ` +
        `so ${name} is not traced; fix: npm install ${API}@^${wanted}.0 (one copy for the app and every instrumentation), or add ${name} to OTEL_NODE_DISABLED_INSTRUMENTATIONS`,
    };
  }
  return undefined;
}

type InstrumentationModule = typeof import('@opentelemetry/instrumentation');

/**
 * The `@opentelemetry/instrumentation` module that instrumentation package `pkg` uses (already
 * loaded with it: one module instance), or ours when it cannot be found from there.
 */
export function instrumentationBaseOf(pkg: string, searchDirs: readonly string[]): InstrumentationModule {
  const entry = resolveOptional(pkg, searchDirs);
  try {
    if (entry !== undefined) return createRequire(entry)(BASE) as InstrumentationModule;
  } catch {
    // below
  }
  return require('@opentelemetry/instrumentation') as InstrumentationModule;
}
