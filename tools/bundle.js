'use strict';
/**
 * Bundles the preload (dist/src/start.js) into one file, dist/preload.js, which the
 * register entries load. Start-up is mostly module loading: each of the ~290 files the
 * full preload required cost a resolution, a stat and a read on top of its compile.
 *
 * Bundled: our code and the SDK packages only the preload uses. External: whatever an
 * instrumentation package also loads (api, core, semantic conventions, instrumentation
 * and its hooks), so one copy of each is shared with them, and what loads on demand
 * (exporters, sdk-metrics, sdk-logs, Sentry, instrumentations). Bundled modules are still
 * evaluated on first require, so nothing runs earlier than before.
 */
const { builtinModules } = require('node:module');
const { dirname, join } = require('node:path');
const esbuild = require('esbuild');

const ROOT = join(__dirname, '..');
const pkg = require(join(ROOT, 'package.json'));

const BUNDLED = new Set([
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/otlp-exporter-base',
  '@opentelemetry/otlp-transformer',
  '@opentelemetry/propagator-b3',
  '@opentelemetry/resource-detector-container',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace',
  '@opentelemetry/sdk-trace',
]);

const packageOf = (id) => {
  const parts = id.split('/');
  return id.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
};

/**
 * Every bare import is external unless its package is in BUNDLED; an external must be ours to resolve.
 * `#` subpath imports (the 3.x packages' `#platform`) resolve inside their own package, bundled with it.
 */
const externals = {
  name: 'externals',
  setup(build) {
    const strays = new Set();
    // A file the package's `exports` hides (3.x's otlp-transformer), named by its path in the package.
    build.onResolve({ filter: /^@opentelemetry\/[^/]+\/dist\// }, (args) => {
      const name = packageOf(args.path);
      if (!BUNDLED.has(name)) return undefined;
      const root = dirname(require.resolve(name, { paths: [args.resolveDir] }));
      return { path: join(root, args.path.slice(name.length + '/dist/'.length)) };
    });
    build.onResolve({ filter: /^[^./#]/ }, (args) => {
      const name = packageOf(args.path);
      if (args.path.startsWith('node:') || builtinModules.includes(name)) return { external: true };
      if (BUNDLED.has(name)) return undefined;
      // Resolved at run time from dist/: only our own dependencies are sure to be found there.
      if (![pkg.dependencies, pkg.peerDependencies, pkg.optionalDependencies].some((deps) => deps && name in deps)) strays.add(`${args.path} (from ${args.importer})`);
      return { external: true };
    });
    build.onEnd((result) => {
      if (strays.size > 0) {
        result.errors.push({ text: `external requires that are not dependencies of ${pkg.name}: ${[...strays].join(', ')}` });
      }
    });
  },
};

esbuild
  .build({
    entryPoints: [join(ROOT, 'dist', 'src', 'start.js')],
    outfile: join(ROOT, 'dist', 'preload.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    // Stack traces and the crash re-throw line name our files, as unbundled. The sources are in the
    // map: the package ships no .ts, and a map naming files that are not there resolves nothing.
    sourcemap: 'linked',
    sourcesContent: true,
    legalComments: 'inline',
    logLevel: 'warning',
    plugins: [externals],
  })
  .catch(() => {
    process.exitCode = 1;
  });
