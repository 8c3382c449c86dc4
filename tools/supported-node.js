#!/usr/bin/env node
'use strict';
/**
 * Runs a command on a Node this project supports. The OpenTelemetry 3.x line needs Node 22.15
 * or later, and the machines this project is built on have Node 20 as `node`: below the floor,
 * the command runs with an official Node 24 binary first on PATH (fetched once into the cache
 * tools/node-versions.sh keeps), so `npm start`, `npm test` and `npm run bench` work from a
 * fresh clone there too. One line says so. On a supported Node it runs the command as it is.
 *
 *   node tools/supported-node.js npm run test:here
 */
const { execFileSync, spawn } = require('node:child_process');
const { delimiter, join } = require('node:path');

const FLOOR = [22, 15];
const FALLBACK_MAJOR = '24';

function supported(version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  return major > FLOOR[0] || (major === FLOOR[0] && minor >= FLOOR[1]);
}

function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!command) {
    console.error('usage: node tools/supported-node.js <command> [args...]');
    process.exit(2);
  }
  const env = { ...process.env };
  if (!supported()) {
    const bin = execFileSync(join(__dirname, 'node-versions.sh'), [FALLBACK_MAJOR], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
    const version = execFileSync(join(bin, 'node'), ['-v'], { encoding: 'utf8' }).trim();
    env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
    console.error(`supported-node: Node ${process.version} is below this project's floor (${FLOOR.join('.')}, OpenTelemetry JS 3.x); running '${[command, ...args].join(' ')}' on Node ${version} from ${bin}`);
  }
  const child = spawn(command, args, { stdio: 'inherit', env });
  // The child gets the terminal's signals itself; we only wait for it, and end as it ended.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => {});
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
  child.on('error', (err) => {
    console.error(`supported-node: ${command}: ${err.message}`);
    process.exitCode = 1;
  });
}

module.exports = { supported };
if (require.main === module) main();
