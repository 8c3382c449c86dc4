/**
 * INNATURAL_COMPILE_CACHE in a real process: a directory that cannot be used is one debug line
 * and the app serves; a usable one fills (even for a process that is killed) and the next start
 * reads it back. Run on every CI Node: on Node 20, which has no compile cache, only the first part applies.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { metricsOnlyEnv, REPO, startApp, type RunningApp } from '../support/app';
import { waitFor } from '../support/wait';

const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
const HAS_CACHE = major > 22 || (major === 22 && minor >= 1);
const NO_CACHE = !HAS_CACHE && `Node ${process.versions.node} has no module.enableCompileCache (22.1 and later have)`;

const root = mkdtempSync(join(tmpdir(), 'compile-cache-'));
after(() => {
  chmodSync(join(root, 'read-only'), 0o755);
  rmSync(root, { recursive: true, force: true });
});

/** Permissions do not bind root: there a read-only file system stands in (/proc refuses new directories). */
function readOnlyDir(): string {
  const dir = join(root, 'read-only');
  mkdirSync(dir);
  chmodSync(dir, 0o555);
  return process.getuid?.() === 0 ? '/proc/innatural-otel-compile-cache' : dir;
}

async function withApp(env: Record<string, string>, use: (app: RunningApp) => Promise<void>): Promise<void> {
  const app = await startApp({ fixture: 'express-app.js', env: metricsOnlyEnv({ OTEL_LOG_LEVEL: 'debug', ...env }) });
  try {
    assert.equal((await app.get('/api/users/1')).status, 200);
    await use(app);
  } finally {
    app.kill();
  }
}

const cacheLines = (app: RunningApp) => app.logLines().filter((l) => /^Compile cache/.test(String(l.message)));

/** The files Node wrote, in its per-version subdirectory. */
function cacheFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((sub) => readdirSync(join(dir, sub)).map((f) => join(sub, f)));
}

describe('compile cache', () => {
  const unusable: Array<[string, () => string]> = [
    ['read-only', readOnlyDir],
    [
      'missing, under a file',
      () => {
        writeFileSync(join(root, 'a-file'), '');
        return join(root, 'a-file', 'cache');
      },
    ],
  ];
  for (const [what, make] of unusable) {
    it(`a ${what} directory: one debug line, and the app starts and serves`, async () => {
      const dir = make();
      await withApp({ INNATURAL_COMPILE_CACHE: dir }, async (app) => {
        const lines = cacheLines(app);
        assert.equal(lines.length, 1, JSON.stringify(lines));
        assert.equal(lines[0]!.level, 'debug');
        assert.match(String(lines[0]!.message), HAS_CACHE ? new RegExp(`^Compile cache not used: ${dir}: `) : /^Compile cache not used: Node v[\d.]+ has no module\.enableCompileCache/);
        assert.deepEqual(app.logLines().filter((l) => l.level === 'error' || l.level === 'warn'), []);
      });
    });
  }

  it('a writable directory fills without a clean exit, and the next start reads it back', { skip: NO_CACHE }, async () => {
    const dir = join(root, 'missing', 'levels', 'cache');
    await withApp({ INNATURAL_COMPILE_CACHE: dir }, async (app) => {
      assert.deepEqual(cacheLines(app).map((l) => l.message), [`Compile cache in ${dir}`]);
      // Killed with SIGKILL after this: the files come from the flush after the app's main script.
      await waitFor(() => cacheFiles(dir).length > 0, 5000, 'cache files', () => `none in ${dir}`);
    });
    // Node's own account of each file's cache entry ("V8 code cache for CommonJS <file>" from Node 23, "cache for <file>" before).
    await withApp({ INNATURAL_COMPILE_CACHE: dir, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' }, async (app) => {
      const accepted = (file: string) => app.stderr().split('\n').some((line) => line.includes(` ${file} was accepted`));
      assert.ok(accepted(join(REPO, 'node_modules', '@opentelemetry', 'api', 'dist', 'index.cjs')), 'an SDK package the preload loads');
      assert.ok(accepted(join(REPO, 'test', 'fixtures', 'express-app.js')), "the app's own script");
    });
  });

  it('by default, one directory per user in the temporary directory; false: none', { skip: NO_CACHE }, async () => {
    const tmp = join(root, 'tmp');
    mkdirSync(tmp);
    await withApp({ TMPDIR: tmp, INNATURAL_COMPILE_CACHE: 'false' }, async (app) => {
      assert.deepEqual(cacheLines(app), []);
    });
    assert.deepEqual(readdirSync(tmp), []);
    const dir = join(tmp, `innatural-otel-compile-cache-${process.getuid?.() ?? 'user'}`);
    await withApp({ TMPDIR: tmp }, async (app) => {
      assert.deepEqual(cacheLines(app).map((l) => l.message), [`Compile cache in ${dir}`]);
      await waitFor(() => cacheFiles(dir).length > 0, 5000, 'cache files', () => `none in ${dir}`);
    });
  });
});
