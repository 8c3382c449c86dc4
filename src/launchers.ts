import { realpathSync } from 'node:fs';

/**
 * Processes that only start the app. `NODE_OPTIONS=--require @innatural/otel/register` loads
 * the preload into every Node process of the container: `npm start` first loads it into npm
 * itself, whose health server then takes the port and describes npm, while the app that npm
 * spawns (and which inherits NODE_OPTIONS) fails to bind it. In these processes the preload
 * does nothing; the app they start gets everything.
 *
 * Recognised by the script Node runs (process.argv[1], symlinks resolved as Node resolves the
 * main module), never by the process title or by variables a launcher leaves in the
 * environment of the app (npm_lifecycle_event is set in the app too).
 */
export interface Launcher {
  /** Named in the debug line. */
  readonly name: string;
  /** Matched against the main script's real path, with forward slashes. */
  readonly script: RegExp;
  /** Why it is not the app, for the debug line; by default: it starts the app, which loads the preload itself. */
  readonly why?: string;
}

export const STARTS_THE_APP = 'it only starts the app, which loads the preload itself through NODE_OPTIONS';

export const LAUNCHERS: readonly Launcher[] = [
  { name: 'npm', script: /\/npm\/bin\/npm-cli\.js$/ },
  { name: 'npx', script: /\/npm\/bin\/npx-cli\.js$/ },
  // Classic: the bin and the CLI it loads; corepack's cache keeps the bin under the version.
  { name: 'yarn', script: /\/yarn\/bin\/yarn(\.js)?$|\/yarn\/lib\/cli\.js$/ },
  // Berry: the npm package, a project's `yarnPath` release, corepack's cache (…/yarn/4.5.0/yarn.js).
  { name: 'yarn', script: /\/@yarnpkg\/cli-dist\/bin\/yarn\.js$|\/\.yarn\/releases\/yarn-[^/]+\.c?js$/ },
  { name: 'pnpm', script: /\/pnpm\/bin\/pn(pm|px)\.c?js$|\/pnpm\/dist\/pnpm\.c?js$/ },
  // corepack's shims run in its own process; the package managers it downloaded are cached by version.
  { name: 'corepack', script: /\/corepack\/dist\/(corepack|npm|npx|pnpm|pnpx|yarn|yarnpkg)\.js$/ },
  { name: 'corepack', script: /\/corepack\/(v\d+\/)?(npm|pnpm|yarn)\/[^/]+\// },
  // The CLI (also pm2-runtime and pm2-docker, which run the daemon in their own process) and the
  // daemon it spawns. The apps PM2 starts run lib/ProcessContainer*.js: those are the app.
  { name: 'pm2', script: /\/pm2\/bin\/pm2(-runtime|-dev|-docker)?$/ },
  { name: 'pm2 daemon', script: /\/pm2\/lib\/Daemon\.js$/ },
  { name: 'nodemon', script: /\/nodemon\/bin\/nodemon\.js$/ },
  { name: 'npm-run-all', script: /\/npm-run-all2?\/bin\/(npm-run-all|run-p|run-s)\/index\.js$/ },
  { name: 'concurrently', script: /\/concurrently\/dist\/bin\/concurrently\.js$/ },
  // Our own doctor: run inside a pod whose NODE_OPTIONS has the preload, it must not bind the
  // health port the app holds, nor count as a second instance of the service.
  { name: 'innatural-otel doctor', script: /\/bin\/innatural-otel(\.js)?$/, why: 'it checks the configuration, the app is another process' },
];

/** The launcher this process is, or undefined for an app (or anything we do not know). */
export function detectLauncher(mainScript: string | undefined = process.argv[1], table: readonly Launcher[] = LAUNCHERS): Launcher | undefined {
  if (!mainScript) return undefined;
  const path = slashes(realPath(mainScript));
  return table.find((launcher) => launcher.script.test(path));
}

/**
 * Scripts that load the app inside their own process: PM2 runs every app through its
 * ProcessContainerFork (fork mode) or ProcessContainer (cluster workers), with the app's script
 * in pm_exec_path.
 * Their own folder would name the service "pm2" and look for the app's packages in PM2's.
 */
const WRAPPERS: ReadonlyArray<{ readonly script: RegExp; readonly entry: (env: NodeJS.ProcessEnv) => string | undefined }> = [
  { script: /\/pm2\/lib\/ProcessContainer(Fork)?(Bun)?\.js$/, entry: (env) => env.pm_exec_path },
];

/** The app's entry script: the main script, or what a wrapper from WRAPPERS is about to load. */
export function appEntry(mainScript: string | undefined = process.argv[1], env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!mainScript) return mainScript;
  const path = slashes(mainScript);
  const wrapper = WRAPPERS.find((w) => w.script.test(path));
  return (wrapper && wrapper.entry(env)) || mainScript;
}

const slashes = (path: string) => path.replace(/\\/g, '/');

function realPath(file: string): string {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
}
