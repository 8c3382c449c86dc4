import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appInfo, isInstalled } from './modules';

/** A package folder with just a package.json: all isInstalled looks for. */
function fakePackage(nodeModules: string, name: string): void {
  mkdirSync(join(nodeModules, name), { recursive: true });
  writeFileSync(join(nodeModules, name, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
}

describe('isInstalled and appInfo: packages found the way Node finds them for the app', () => {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'innatural-modules-')));
  after(() => rmSync(root, { recursive: true, force: true }));

  // A workspace package with its own dependency, and a symlink to its entry elsewhere (a bin link).
  const workspace = join(root, 'ws', 'packages', 'app');
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'package.json'), JSON.stringify({ name: 'ws-app', version: '2.3.4', dependencies: { 'only-in-workspace': '1' } }));
  writeFileSync(join(workspace, 'server.js'), '');
  fakePackage(join(workspace, 'node_modules'), 'only-in-workspace');
  fakePackage(join(workspace, 'node_modules'), '@scope/scoped');
  const bin = join(root, 'bin');
  mkdirSync(bin);
  symlinkSync(join(workspace, 'server.js'), join(bin, 'app.js'));
  // Reachable only from the symlink's folder: what --preserve-symlinks-main resolves from.
  fakePackage(join(bin, 'node_modules'), 'only-by-link');
  const elsewhere = join(root, 'cwd');
  mkdirSync(elsewhere);

  it('an entry named through a symlink: its real folder is searched, as Node resolves the main module', () => {
    const app = appInfo(join(bin, 'app.js'), elsewhere);
    assert.deepEqual(app.searchDirs, [workspace, bin, elsewhere]);
    assert.equal(isInstalled('only-in-workspace', app.searchDirs), true);
    assert.equal(isInstalled('@scope/scoped', app.searchDirs), true);
    assert.equal(app.name, 'ws-app', 'the package.json next to the real entry names the service');
    assert.equal(app.version, '2.3.4');
  });

  it('and the folder it was named by, for --preserve-symlinks-main', () => {
    assert.equal(isInstalled('only-by-link', appInfo(join(bin, 'app.js'), elsewhere).searchDirs), true);
  });

  it('a package nowhere on the path is not installed', () => {
    assert.equal(isInstalled('not-anywhere-at-all', appInfo(join(bin, 'app.js'), elsewhere).searchDirs), false);
    assert.equal(isInstalled('only-in-workspace', [elsewhere]), false);
  });

  it('NODE_PATH and $HOME/.node_modules: the global folders Node searches after the node_modules chain', () => {
    // Node reads them once at start: ask a fresh process.
    const globalDir = join(root, 'global', 'node_modules');
    fakePackage(globalDir, 'only-on-node-path');
    const home = join(root, 'home');
    fakePackage(join(home, '.node_modules'), 'only-in-home');
    const script = `const { isInstalled } = require(${JSON.stringify(require.resolve('./modules'))});
      process.stdout.write(JSON.stringify(['only-on-node-path', 'only-in-home'].map((n) => isInstalled(n, [${JSON.stringify(elsewhere)}]))));`;
    const ask = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' })) as boolean[];
    assert.deepEqual(ask({ HOME: home, NODE_PATH: globalDir }), [true, true]);
    assert.deepEqual(ask({ HOME: elsewhere }), [false, false]);
  });
});
