import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/**
 * assets/ at the package root: the nearest directory above this file that holds it
 * (dist/src/health/ unbundled, dist/ in the preload bundle).
 */
function assetsDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, 'assets', 'dashboard');
    if (existsSync(candidate) || dirname(dir) === dir) return candidate;
  }
}


const SOURCES: Readonly<Record<string, { readonly file: () => string; readonly contentType: string }>> = {
  '/dashboard': { file: () => join(assetsDir(), 'index.html'), contentType: 'text/html; charset=utf-8' },
  '/dashboard/dashboard.js': { file: () => join(assetsDir(), 'dashboard.js'), contentType: 'text/javascript; charset=utf-8' },
  // The chart library from npm, served by us: clusters are often offline, and no CDN sees our users.
  '/dashboard/uplot.min.js': {
    file: () => join(dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.iife.min.js'),
    contentType: 'text/javascript; charset=utf-8',
  },
  '/dashboard/uplot.min.css': {
    file: () => join(dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.min.css'),
    contentType: 'text/css; charset=utf-8',
  },
};

export const ASSET_PATHS: readonly string[] = Object.keys(SOURCES);

const cache = new Map<string, Asset>();

/** Read once, on first request: the dashboard costs nothing to a service nobody looks at. */
export function asset(path: string): Asset | undefined {
  const source = SOURCES[path];
  if (!source) return undefined;
  let found = cache.get(path);
  if (!found) {
    found = { contentType: source.contentType, body: readFileSync(source.file()) };
    cache.set(path, found);
  }
  return found;
}
