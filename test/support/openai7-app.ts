/**
 * An app folder whose `openai` is openai 7: our devDependency `openai-7` (an npm alias, so
 * `openai` stays at 6 for the rest of the tests) laid out as `node_modules/openai`, as an app
 * that installs openai 7 has it. The instrumentations find a package by the folder it is in,
 * so the alias folder itself would never be patched. Hard links: nothing is copied, nothing
 * may be written through them.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES, REPO } from './app';

export interface Openai7App {
  readonly root: string;
  /** The fixture entry for `--require` (CommonJS) or `--import` (an ES module). */
  entry(kind: 'require' | 'import'): string;
  remove(): void;
}

export function layOutOpenai7App(): Openai7App {
  const root = mkdtempSync(join(tmpdir(), 'innatural-openai7-'));
  const target = join(root, 'node_modules', 'openai');
  mkdirSync(join(root, 'node_modules'));
  try {
    execFileSync('cp', ['-al', join(REPO, 'node_modules', 'openai-7'), target], { stdio: 'pipe' });
  } catch {
    rmSync(target, { recursive: true, force: true });
    execFileSync('cp', ['-a', join(REPO, 'node_modules', 'openai-7'), target], { stdio: 'pipe' }); // another file system
  }
  cpSync(join(FIXTURES, 'openai-app'), root, { recursive: true });
  return {
    root,
    entry: (kind) => join(root, kind === 'require' ? 'app.js' : 'app.mjs'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
