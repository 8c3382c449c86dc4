'use strict';
/**
 * Peers the bench compares against but that must not be in our own dependency tree: EDOT Node
 * is still on OpenTelemetry's 2.x line, and as a dev dependency it gave every `npm ci` 21
 * ERESOLVE warnings against our API 1.10. Installed once per pinned version into a cache outside
 * the clone (like tools/node-versions.sh's Node binaries); a warm cache costs one stat.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync } = require('node:fs');
const { homedir } = require('node:os');
const { join } = require('node:path');

const PEERS = { '@elastic/opentelemetry-node': '1.18.0' };

function cacheRoot() {
  return process.env.INNATURAL_PEER_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'innatural-otel', 'peers');
}

/** The installed package's directory, installing it first when the cache lacks it. */
function peerDir(name) {
  const version = PEERS[name];
  if (!version) throw new Error(`bench/peers.js: no pinned version for ${name}`);
  const prefix = join(cacheRoot(), `${name.replace('/', '+')}@${version}`);
  const dir = join(prefix, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) {
    process.stderr.write(`bench: installing ${name}@${version} into ${prefix}\n`);
    mkdirSync(prefix, { recursive: true });
    execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error', `${name}@${version}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  return dir;
}

module.exports = { PEERS, peerDir };
