import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';

export interface AppInfo {
  /** Where the app's own packages are looked up: the entry script's folder, then the working directory. */
  readonly searchDirs: readonly string[];
  readonly name: string | undefined;
  readonly version: string | undefined;
  /** Every package the app's package.json names in any dependency list. */
  readonly declared: ReadonlySet<string>;
  /** The entry script is an ES module (.mjs, or .js under "type": "module"). */
  readonly esmEntry: boolean;
}

export function appInfo(mainScript: string | undefined = process.argv[1], cwd: string = process.cwd()): AppInfo {
  const entryDir = mainScript ? dirname(resolve(cwd, mainScript)) : cwd;
  const searchDirs = entryDir === cwd ? [cwd] : [entryDir, cwd];
  const pkg = nearestPackageJson(entryDir);
  const ext = mainScript ? extname(mainScript) : '';
  const esmEntry = ext === '.mjs' || ((ext === '.js' || ext === '') && pkg?.type === 'module');
  return { searchDirs, name: pkg?.name, version: pkg?.version, declared: new Set(pkg?.declared), esmEntry };
}

const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];

interface PackageJson {
  readonly name?: string;
  readonly version?: string;
  readonly type?: string;
  readonly declared: string[];
}

function nearestPackageJson(from: string): PackageJson | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        return {
          name: typeof parsed.name === 'string' ? parsed.name : undefined,
          version: typeof parsed.version === 'string' ? parsed.version : undefined,
          type: typeof parsed.type === 'string' ? parsed.type : undefined,
          declared: DEPENDENCY_FIELDS.flatMap((field) => {
            const deps = parsed[field];
            return deps && typeof deps === 'object' ? Object.keys(deps) : [];
          }),
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
