/**
 * The package managers and process managers the launcher tests run, besides the machine's npm:
 * installed once with npm into a cache outside the clone (like the Node binaries and the
 * collector build), at the versions the launcher table was checked against.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const LAUNCHERS_DIR = process.env.INNATURAL_TEST_LAUNCHERS_DIR ?? join(homedir(), '.cache', 'innatural-otel', 'launchers');

const PACKAGES = ['pnpm@9', 'yarn@1', '@yarnpkg/cli-dist@4', 'pm2@6'];

/** Each launcher's main script, as `node <script>` runs it. */
export const LAUNCHER_SCRIPTS = {
  pnpm: 'pnpm/bin/pnpm.cjs',
  yarnClassic: 'yarn/bin/yarn.js',
  yarnBerry: '@yarnpkg/cli-dist/bin/yarn.js',
  pm2Runtime: 'pm2/bin/pm2-runtime',
} as const;

let installed: { ok: true } | { ok: false; why: string } | undefined;

/** The script's path, installing the set on first use; a string saying why when npm could not install it. */
export function launcherScript(name: keyof typeof LAUNCHER_SCRIPTS): { path: string } | { why: string } {
  const path = join(LAUNCHERS_DIR, 'node_modules', LAUNCHER_SCRIPTS[name]);
  if (existsSync(path)) return { path };
  installed ??= install();
  if (!installed.ok) return { why: installed.why };
  return existsSync(path) ? { path } : { why: `${path} missing after npm install` };
}

function install(): { ok: true } | { ok: false; why: string } {
  const command = `npm install --no-audit --no-fund --prefix ${LAUNCHERS_DIR} ${PACKAGES.join(' ')}`;
  try {
    mkdirSync(LAUNCHERS_DIR, { recursive: true });
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefix', LAUNCHERS_DIR, ...PACKAGES], { stdio: 'pipe', timeout: 120_000 });
    return { ok: true };
  } catch (err) {
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim().split('\n').slice(-3).join(' ');
    return { ok: false, why: `\`${command}\` failed: ${stderr || (err as Error).message}` };
  }
}
