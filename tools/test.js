'use strict';
/**
 * Runs the built tests with the running Node's test runner, the same way on Node 20 and later:
 * `node --test DIR` searches DIR on Node 20 but reads it as a file pattern from Node 21 on, and
 * Node 20 does not expand globs. This lists the `*.test.js` files itself and passes them all.
 *
 *   node tools/test.js [SUITE] [node --test options]     SUITE: all (default), node, reliability
 */
const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');

const SUITES = {
  all: { paths: ['dist/src', 'dist/test'], skip: [] },
  // What can differ between Node versions. The collector and Prometheus server tests, the
  // dashboard in Chromium, the offline manifest checks and the packaging test (npm pack and
  // install) run once, on the machine's Node.
  node: { paths: ['dist/src', 'dist/test'], skip: ['dist/test/collector', 'dist/test/dashboard', 'dist/test/deploy', 'dist/test/packaging'] },
  reliability: { paths: ['dist/test/reliability'], skip: [] },
};

function testFiles(dir, skip) {
  const rel = relative(ROOT, dir);
  if (skip.includes(rel)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path, skip);
      return entry.isFile() && entry.name.endsWith('.test.js') ? [relative(ROOT, path)] : [];
    });
}

const args = process.argv.slice(2);
const name = args[0] && !args[0].startsWith('-') ? args.shift() : 'all';
const suite = SUITES[name];
if (!suite) {
  console.error(`tools/test.js: unknown suite '${name}' (${Object.keys(SUITES).join(', ')})`);
  process.exit(2);
}
const files = suite.paths.flatMap((p) => testFiles(join(ROOT, p), suite.skip));
if (files.length === 0) {
  console.error(`tools/test.js: no test files under ${suite.paths.join(', ')}; run npm run build first`);
  process.exit(2);
}
const reporter = args.some((a) => a.startsWith('--test-reporter')) ? [] : ['--test-reporter=spec'];
const run = spawnSync(process.execPath, ['--test', ...reporter, ...args, ...files], { cwd: ROOT, stdio: 'inherit' });
if (run.error) throw run.error;
// The runner's own status, or 1 when it died of a signal: a CI step must never read that as a pass.
process.exitCode = run.status ?? 1;
