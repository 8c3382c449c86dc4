'use strict';
/**
 * The Node versions a bench run covers: BENCH_NODES (majors, `22,24`), by default the two LTS
 * lines, 22 and 24, which differ most (AsyncLocalStorage on async_hooks against AsyncContextFrame). Another major than this process's comes from
 * tools/node-versions.sh, the cache the CI matrix uses.
 */
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');

const DEFAULT = ['22', '24'];

function benchNodes(spec = process.env.BENCH_NODES) {
  const current = process.versions.node.split('.')[0];
  const majors = (spec ? spec.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT).filter((m, i, all) => all.indexOf(m) === i);
  return majors.map((major) => {
    if (!/^\d+$/.test(major)) throw new Error(`BENCH_NODES: '${major}' is not a major version`);
    const bin =
      major === current
        ? process.execPath
        : join(execFileSync(join(__dirname, '..', 'tools', 'node-versions.sh'), [major], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim(), 'node');
    const version = execFileSync(bin, ['-p', 'process.version'], { encoding: 'utf8' }).trim();
    return { major, bin, version };
  });
}

module.exports = { benchNodes };
