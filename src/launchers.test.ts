import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appEntry, detectLauncher } from './launchers';

/** Where each launcher's main script lives once installed (checked against npm 11, pnpm 9, yarn 1.22 and 4, corepack 0.34, PM2 6). */
const LAUNCHER_SCRIPTS: ReadonlyArray<[string, string]> = [
  ['npm', '/usr/lib/node_modules/npm/bin/npm-cli.js'],
  ['npx', '/usr/lib/node_modules/npm/bin/npx-cli.js'],
  ['npm', 'C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js'],
  ['yarn', '/usr/local/lib/node_modules/yarn/bin/yarn.js'],
  ['yarn', '/usr/local/lib/node_modules/yarn/lib/cli.js'],
  ['yarn', '/app/node_modules/@yarnpkg/cli-dist/bin/yarn.js'],
  ['yarn', '/app/.yarn/releases/yarn-4.5.1.cjs'],
  ['pnpm', '/usr/local/lib/node_modules/pnpm/bin/pnpm.cjs'],
  ['pnpm', '/usr/local/lib/node_modules/pnpm/bin/pnpx.cjs'],
  ['pnpm', '/root/.local/share/pnpm/.tools/pnpm/9.1.0/node_modules/pnpm/dist/pnpm.cjs'],
  ['corepack', '/usr/lib/node_modules/corepack/dist/corepack.js'],
  ['corepack', '/usr/lib/node_modules/corepack/dist/yarn.js'],
  ['corepack', '/usr/lib/node_modules/corepack/dist/pnpm.js'],
  ['corepack', '/root/.cache/node/corepack/v1/yarn/4.5.1/yarn.js'],
  ['corepack', '/root/.cache/node/corepack/v1/pnpm/9.12.0/bin/pnpm.cjs'],
  ['pm2', '/usr/local/lib/node_modules/pm2/bin/pm2'],
  ['pm2', '/usr/local/lib/node_modules/pm2/bin/pm2-runtime'],
  ['pm2', '/usr/local/lib/node_modules/pm2/bin/pm2-docker'],
  ['pm2 daemon', '/usr/local/lib/node_modules/pm2/lib/Daemon.js'],
  ['nodemon', '/app/node_modules/nodemon/bin/nodemon.js'],
  ['npm-run-all', '/app/node_modules/npm-run-all/bin/run-p/index.js'],
  ['concurrently', '/app/node_modules/concurrently/dist/bin/concurrently.js'],
  ['innatural-otel doctor', '/app/node_modules/@innatural/otel/bin/innatural-otel.js'],
];

/** Apps, including the scripts launchers run the app through: the preload must start in them. */
const APP_SCRIPTS: readonly string[] = [
  '/app/server.js',
  '/app/dist/main.js',
  '/app/bin/www',
  '/app/node_modules/.bin/../my-cli/bin/cli.js',
  // PM2 runs the app through these, in fork and cluster mode: they are the app.
  '/usr/local/lib/node_modules/pm2/lib/ProcessContainerFork.js',
  '/usr/local/lib/node_modules/pm2/lib/ProcessContainer.js',
  // A file of the app that happens to share a launcher's name.
  '/app/src/npm-cli.js',
  '/app/yarn.js',
  '/app/lib/Daemon.js',
];

describe('detectLauncher', () => {
  for (const [name, script] of LAUNCHER_SCRIPTS) {
    it(`${script} is ${name}`, () => {
      assert.equal(detectLauncher(script)?.name, name);
    });
  }
  for (const script of APP_SCRIPTS) {
    it(`${script} is an app`, () => {
      assert.equal(detectLauncher(script), undefined);
    });
  }

  it('no main script (node -e, the REPL) is an app', () => {
    assert.equal(detectLauncher(undefined), undefined);
    assert.equal(detectLauncher(''), undefined);
  });

  describe('symlinks resolved as Node resolves the main module', () => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), 'innatural-launchers-')));
    after(() => rmSync(root, { recursive: true, force: true }));
    const real = join(root, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, '');
    mkdirSync(join(root, 'bin'));
    symlinkSync(real, join(root, 'bin', 'npm'));

    it('/usr/bin/npm, a link to npm-cli.js, is npm', () => {
      assert.equal(detectLauncher(join(root, 'bin', 'npm'))?.name, 'npm');
    });
  });
});

describe('appEntry', () => {
  it('is the main script of a plain app', () => {
    assert.equal(appEntry('/app/server.js', {}), '/app/server.js');
  });

  it('is the app PM2 runs, not its ProcessContainer', () => {
    const env = { pm_exec_path: '/app/server.js' };
    assert.equal(appEntry('/usr/lib/node_modules/pm2/lib/ProcessContainerFork.js', env), '/app/server.js');
    assert.equal(appEntry('/usr/lib/node_modules/pm2/lib/ProcessContainer.js', env), '/app/server.js');
  });

  it('is the container itself when PM2 did not say which app', () => {
    const container = '/usr/lib/node_modules/pm2/lib/ProcessContainerFork.js';
    assert.equal(appEntry(container, {}), container);
  });

  it('is not taken from pm_exec_path when the main script is not PM2’s', () => {
    assert.equal(appEntry('/app/server.js', { pm_exec_path: '/elsewhere/other.js' }), '/app/server.js');
  });
});
