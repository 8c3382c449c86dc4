import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/**
 * Packages we ship either directly or through auto-instrumentations-node (which carries
 * the rest of the contrib instrumentations and the cloud detectors). Requiring through
 * its location keeps working when npm does not hoist them next to us.
 */
export function requireBundled<T = unknown>(pkg: string): T {
  try {
    return require(pkg) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    const metaRequire = createRequire(require.resolve('@opentelemetry/auto-instrumentations-node/package.json'));
    return metaRequire(pkg) as T;
  }
}

export interface AppInfo {
  /** Where the app's own packages are looked up: the entry script's folder, then the working directory. */
  readonly searchDirs: readonly string[];
  readonly name: string | undefined;
  readonly version: string | undefined;
}

export function appInfo(mainScript: string | undefined = process.argv[1], cwd: string = process.cwd()): AppInfo {
  const entryDir = mainScript ? dirname(resolve(cwd, mainScript)) : cwd;
  const searchDirs = entryDir === cwd ? [cwd] : [entryDir, cwd];
  const pkg = nearestPackageJson(entryDir);
  return { searchDirs, name: pkg?.name, version: pkg?.version };
}

function nearestPackageJson(from: string): { name?: string; version?: string } | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        return {
          name: typeof parsed.name === 'string' ? parsed.name : undefined,
          version: typeof parsed.version === 'string' ? parsed.version : undefined,
        };
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Whether `name` is installed where the app would find it. A directory walk for
 * node_modules/<name>/package.json, not require.resolve: it loads nothing and is not
 * fooled by packages whose `exports` hide their entry from CommonJS.
 */
export function isInstalled(name: string, searchDirs: readonly string[]): boolean {
  for (const start of searchDirs) {
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, 'node_modules', name, 'package.json'))) return true;
      if (dirname(dir) === dir) break;
    }
  }
  return false;
}
