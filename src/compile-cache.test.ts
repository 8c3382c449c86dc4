import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultCompileCacheDir, enableCompileCache, ensureDir, untrusted } from './compile-cache';
import { createLogger, type Logger } from './logging/logger';

/** Each line as `level: message`. */
function recorder(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('debug', (line) => {
    const { level, message } = JSON.parse(line) as { level: string; message: string };
    lines.push(`${level}: ${message}`);
  });
  return { lines, logger };
}

const scratch = () => mkdtempSync(join(tmpdir(), 'compile-cache-unit-'));

describe('ensureDir', () => {
  it('creates every missing level', () => {
    const root = scratch();
    try {
      ensureDir(join(root, 'a', 'b', 'c'));
      assert.ok(statSync(join(root, 'a', 'b', 'c')).isDirectory());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('fails, and does not loop, where mkdir answers ENOENT under an existing parent (/proc)', { skip: process.platform !== 'linux' && 'no /proc' }, () => {
    assert.throws(() => ensureDir('/proc/innatural-otel-test/cache'), { code: 'ENOENT' });
  });

  it('fails under a file', () => {
    const root = scratch();
    try {
      writeFileSync(join(root, 'file'), '');
      assert.throws(() => ensureDir(join(root, 'file', 'cache')), /not a directory/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('enableCompileCache', () => {
  const fake = (status: number, message?: string) => ({ enableCompileCache: (dir: string) => ({ status, message, directory: dir }) });

  it('false: nothing is tried, nothing said', () => {
    const { logger, lines } = recorder();
    let called = false;
    enableCompileCache(false, logger, { enableCompileCache: () => ((called = true), { status: 1 }) });
    assert.equal(called, false);
    assert.deepEqual(lines, []);
  });

  it('a Node without it: one debug line', () => {
    const { logger, lines } = recorder();
    enableCompileCache(undefined, logger, {});
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^debug: Compile cache not used: Node v[\d.]+ has no module\.enableCompileCache/);
  });

  const cases: Array<[number, string | undefined, RegExp]> = [
    [1, undefined, /^debug: Compile cache in /],
    [2, undefined, /^debug: Compile cache already enabled \(NODE_COMPILE_CACHE\)/],
    [3, undefined, /^debug: Compile cache not used: NODE_DISABLE_COMPILE_CACHE is set/],
    [0, 'Cannot create cache directory: permission denied', /^debug: Compile cache not used: .*: Cannot create cache directory: permission denied; INNATURAL_COMPILE_CACHE=false stops trying$/],
  ];
  for (const [status, message, line] of cases) {
    it(`status ${status}: one debug line`, () => {
      const root = scratch();
      try {
        const { logger, lines } = recorder();
        enableCompileCache(join(root, 'cache'), logger, fake(status, message));
        assert.equal(lines.length, 1, lines.join('\n'));
        assert.match(lines[0]!, line);
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });
  }

  it('a directory that cannot be made: one debug line naming it, Node not asked', () => {
    const root = scratch();
    try {
      writeFileSync(join(root, 'file'), '');
      const { logger, lines } = recorder();
      let called = false;
      enableCompileCache(join(root, 'file', 'cache'), logger, { enableCompileCache: () => ((called = true), { status: 1 }) });
      assert.equal(called, false);
      assert.equal(lines.length, 1);
      assert.match(lines[0]!, new RegExp(`^debug: Compile cache not used: ${join(root, 'file', 'cache')}: .*not a directory`));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('flushes once the current script has run, and a failing flush is a debug line, not a throw', async () => {
    const root = scratch();
    try {
      const { logger, lines } = recorder();
      let flushed = 0;
      enableCompileCache(join(root, 'cache'), logger, {
        ...fake(1),
        flushCompileCache: () => {
          flushed++;
          throw new Error('disk full');
        },
      });
      assert.equal(flushed, 0, 'not during start');
      await new Promise((r) => setImmediate(r));
      assert.equal(flushed, 1);
      assert.match(lines.at(-1)!, /^debug: Compile cache not written: .*disk full/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

it('the default directory is one per user, in the temporary directory', () => {
  assert.equal(defaultCompileCacheDir(1000), join(tmpdir(), 'innatural-otel-compile-cache-1000'));
  assert.equal(defaultCompileCacheDir(), join(tmpdir(), `innatural-otel-compile-cache-${process.getuid?.() ?? 'user'}`));
});

describe('untrusted', () => {
  const stat = (uid: number, mode: number) => (() => ({ uid, mode: 0o040000 | mode })) as unknown as typeof import('node:fs').statSync;
  it('trusts a directory of ours or root, writable by its owner only', () => {
    assert.equal(untrusted('/d', 1000, stat(1000, 0o700)), undefined);
    assert.equal(untrusted('/d', 1000, stat(0, 0o755)), undefined);
  });
  it("refuses another user's directory, and one its group or others may write (anyone can pre-create a name in /tmp)", () => {
    assert.equal(untrusted('/d', 1000, stat(1001, 0o700)), 'owned by uid 1001, not 1000');
    assert.equal(untrusted('/d', 1000, stat(1000, 0o777)), 'writable by its group (mode 777)');
    assert.equal(untrusted('/d', 1000, stat(0, 0o1757)), 'writable by others (mode 757)');
  });
  it('a cache directory another user made is one debug line, and Node is not asked', () => {
    const dir = scratch();
    chmodSync(dir, 0o777);
    const { logger, lines } = recorder();
    let asked = false;
    enableCompileCache(dir, logger, {
      enableCompileCache: () => {
        asked = true;
        return { status: 1 };
      },
    });
    assert.equal(asked, false);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^debug: Compile cache not used: .* is writable by its group/);
    rmSync(dir, { recursive: true, force: true });
  });
});
