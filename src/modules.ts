import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';

/** Carries every contrib instrumentation and resource detector, each as a dependency of its own. */
export const AUTO_INSTRUMENTATIONS = '@opentelemetry/auto-instrumentations-node';

function resolveFrom(from: string, pkg: string): string | undefined {
  try {
    return createRequire(from).resolve(pkg);
  } catch {
    return undefined;
  }
}

/**
 * Where a package we do not ship (packages.ts) resolves, loading nothing; undefined when it is
 * not installed. Looked for beside us first (hoisted next to our package, as npm installs the
 * app's packages and our peers), then from the app's folders (our package may live elsewhere:
 * NODE_PATH, a global install, a linked checkout), then inside an auto-instrumentations-node
 * found either way (npm nests its dependencies there when their versions conflict with the app's).
 * `self`: a file of ours, where resolution starts.
 */
export function resolveOptional(pkg: string, searchDirs: readonly string[], self: string = __filename): string | undefined {
  // A file that need not exist: resolution starts from its folder, as the app's own require does.
  const places = [self, ...searchDirs.map((dir) => join(dir, '__innatural_otel__.js'))];
  for (const from of places) {
    const found = resolveFrom(from, pkg);
    if (found) return found;
  }
  if (pkg === AUTO_INSTRUMENTATIONS) return undefined;
  for (const from of places) {
    const auto = resolveFrom(from, AUTO_INSTRUMENTATIONS);
    const found = auto && resolveFrom(auto, pkg);
    if (found) return found;
  }
  return undefined;
}

/** The package's exports, or undefined when it is not installed; a package that fails to load throws. */
export function requireOptional<T>(pkg: string, searchDirs: readonly string[]): T | undefined {
  const path = resolveOptional(pkg, searchDirs);
  return path === undefined ? undefined : (require(path) as T);
}

export interface AppInfo {
  /**
   * Where the app's own packages are looked up: the entry script's real folder (where Node
   * resolves the main module's requires from), the folder it was named by (a symlink, for
   * --preserve-symlinks-main), then the working directory. See isInstalled.
   */
  readonly searchDirs: readonly string[];
  readonly name: string | undefined;
  readonly version: string | undefined;
  /** Every package the app's package.json names in any dependency list. */
  readonly declared: ReadonlySet<string>;
  /** The entry script is an ES module (.mjs, or .js under "type": "module"). */
  readonly esmEntry: boolean;
}

export function appInfo(mainScript: string | undefined = process.argv[1], cwd: string = process.cwd()): AppInfo {
  const entry = mainScript ? resolve(cwd, mainScript) : undefined;
  const named = entry ? dirname(entry) : cwd;
  const entryDir = entry ? dirname(realPath(entry)) : cwd;
  const searchDirs = [...new Set([entryDir, named, cwd])];
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

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}

/**
 * Whether `name` is installed where the app would find it: in the folders Node itself
 * searches from each of `searchDirs` (the node_modules chain, then NODE_PATH,
 * $HOME/.node_modules, $HOME/.node_libraries and $PREFIX/lib/node), as
 * `require.resolve.paths` lists them. A package.json lookup in each, not require.resolve:
 * it loads nothing and is not fooled by packages whose `exports` hide their entry from
 * CommonJS.
 */
export function isInstalled(name: string, searchDirs: readonly string[]): boolean {
  for (const dir of searchDirs) {
    const paths = createRequire(join(dir, 'noop.js')).resolve.paths(name) ?? [];
    if (paths.some((folder) => existsSync(join(folder, name, 'package.json')))) return true;
  }
  return false;
}
