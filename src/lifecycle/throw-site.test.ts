import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { throwSite } from './throw-site';

const dir = mkdtempSync(join(tmpdir(), 'throw-site-'));

/** Requires a module whose `make()` creates (and returns) an error on line 3. */
function errorFrom(name: string, body: string): Error {
  const file = join(dir, name);
  writeFileSync(file, `'use strict';\nexports.make = () => {\n${body}\n};\n`);
  return (require(file) as { make(): Error }).make();
}

describe('throwSite', () => {
  it('is Node’s layout: file:line, the line, a caret under the column, a blank line', () => {
    const err = errorFrom('app.js', "  const e = new Error('boom'); return e;");
    assert.equal(throwSite(err), `${join(dir, 'app.js')}:3\n  const e = new Error('boom'); return e;\n            ^\n\n`);
  });

  it('`throw new Error()`: the caret under throw, as Node puts it', () => {
    const err = errorFrom('thrown.js', "  try { throw new Error('t'); } catch (e) { return e; }");
    assert.equal(throwSite(err), `${join(dir, 'thrown.js')}:3\n  try { throw new Error('t'); } catch (e) { return e; }\n        ^\n\n`);
  });

  it('keeps tabs before the caret, so it lines up in a terminal', () => {
    const err = errorFrom('tabs.js', "\t\treturn new TypeError('t');");
    assert.equal(throwSite(err), `${join(dir, 'tabs.js')}:3\n\t\treturn new TypeError('t');\n\t\t       ^\n\n`);
  });

  it('reads a file:// location (ES modules)', () => {
    const file = join(dir, 'esm.mjs');
    writeFileSync(file, 'export const x = 1;\nexport const e = new Error("esm");\n');
    const err = Object.assign(new Error('esm'), { stack: `Error: esm\n    at ${pathToFileURL(file).href}:2:18` });
    assert.equal(throwSite(err), `${pathToFileURL(file).href}:2\nexport const e = new Error("esm");\n                 ^\n\n`);
  });

  it('a multi-line message does not hide the first frame', () => {
    const err = errorFrom('multi.js', "  return new Error('line one\\n    at not a frame\\nline three');");
    assert.match(throwSite(err) ?? '', /multi\.js:3\n {2}return new Error/);
  });

  it('nothing to show: no stack, Node’s internals, an unreadable file, an already decorated stack', () => {
    assert.equal(throwSite('a string'), undefined);
    assert.equal(throwSite(undefined), undefined);
    assert.equal(throwSite(Object.assign(new Error('x'), { stack: undefined })), undefined);
    assert.equal(throwSite(Object.assign(new Error('x'), { stack: 'Error: x\n    at node:internal/process/promises:391:5' })), undefined);
    assert.equal(throwSite(Object.assign(new Error('x'), { stack: `Error: x\n    at f (${join(dir, 'missing.js')}:1:1)` })), undefined);
    const decorated = `${join(dir, 'app.js')}:3\n  const e = new Error('boom');\n            ^\n\nError: boom\n    at f (${join(dir, 'app.js')}:3:13)`;
    assert.equal(throwSite(Object.assign(new Error('boom'), { stack: decorated })), undefined);
    const hostile = Object.defineProperty({}, 'stack', {
      get() {
        throw new Error('no');
      },
    });
    assert.equal(throwSite(hostile), undefined);
  });
});
