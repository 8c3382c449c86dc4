'use strict';
/**
 * Runs the built tests with the running Node's test runner, the same way on Node 20 and later:
 * `node --test DIR` searches DIR on Node 20 but reads it as a file pattern from Node 21 on, and
 * Node 20 does not expand globs. This lists the `*.test.js` files itself and passes them all.
 *
 * Nothing waits for ever (issue 30: one file that never ended held a CI run for 35 minutes and
 * cancelled the 38 queued behind it): each test, and each file, has a bound (--test-timeout,
 * and tools/test-file-bound.js for the file's process), so one stuck file fails and the rest
 * run; the whole run has one too. A run that is stopped (its bound, a signal, the runner
 * killed) names the files that were in progress.
 *
 *   node tools/test.js [SUITE] [node --test options]     SUITE: all (default), node, reliability
 *
 *   INNATURAL_TEST_TIMEOUT_MS        a test, and a file's process   (default 5 min; 20 with INNATURAL_RELIABILITY=long)
 *   INNATURAL_TEST_TOTAL_TIMEOUT_MS  the whole run                  (default 60 min)
 */
const { spawn } = require('node:child_process');
const { closeSync, mkdtempSync, openSync, readdirSync, readSync, rmSync } = require('node:fs');
const { constants, tmpdir } = require('node:os');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
/**
 * The slowest file takes 46 s (reliability/long-run; all 106 files in 9 min 20 s on Node 20,
 * 2 cores, both busy): a stuck one fails in 5 minutes. At full length (npm run
 * test:reliability) the long run alone holds its load 10 minutes after a minute's warm-up.
 */
const LONG = process.env.INNATURAL_RELIABILITY === 'long';
const TEST_TIMEOUT_MS = Number(process.env.INNATURAL_TEST_TIMEOUT_MS) || (LONG ? 20 : 5) * 60_000;
/** Past --test-timeout, which ends a file on Node 20 and 22 with its own message. */
const FILE_TIMEOUT_MS = TEST_TIMEOUT_MS + 30_000;
const TOTAL_TIMEOUT_MS = Number(process.env.INNATURAL_TEST_TOTAL_TIMEOUT_MS) || 3_600_000;

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
const userReporters = args.filter((a) => a.startsWith('--test-reporter=') || a === '--test-reporter').length;
const userDestinations = args.filter((a) => a.startsWith('--test-reporter-destination')).length;
// Reporters and destinations pair by position: ours comes last, so theirs get one each first.
const reporters =
  userReporters === 0 ? ['--test-reporter=spec', '--test-reporter-destination=stdout'] : Array(Math.max(0, userReporters - userDestinations)).fill('--test-reporter-destination=stdout');
const progressDir = mkdtempSync(join(tmpdir(), 'innatural-test-'));
const progressFile = join(progressDir, 'progress');
const runnerArgs = [
  '--require',
  join(__dirname, 'test-file-bound.js'),
  '--test',
  ...reporters,
  `--test-reporter=${join(__dirname, 'test-progress.js')}`,
  `--test-reporter-destination=${progressFile}`,
  ...(args.some((a) => a.startsWith('--test-timeout')) ? [] : [`--test-timeout=${TEST_TIMEOUT_MS}`]),
  ...args,
  ...files,
];
const started = Date.now();
// A group of its own, so a stop ends every file's process and what they started, not the runner alone.
const runner = spawn(process.execPath, runnerArgs, {
  cwd: ROOT,
  stdio: 'inherit',
  detached: process.platform !== 'win32',
  env: { ...process.env, INNATURAL_TEST_FILE_TIMEOUT_MS: String(FILE_TIMEOUT_MS) },
});

/** Files in progress, by when they started; ended files with their time. */
const inProgress = new Map();
const ended = [];
let read = 0;
let partial = '';
function readProgress() {
  let fd;
  try {
    fd = openSync(progressFile, 'r');
  } catch {
    return; // the runner has not written yet
  }
  try {
    const buffer = Buffer.alloc(64 * 1024);
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, read)) > 0; read += n) partial += buffer.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
  const lines = partial.split('\n');
  partial = lines.pop();
  for (const line of lines) {
    const [what, file, outcome, ms] = line.split('\t');
    if (what === 'start') inProgress.set(file, Date.now());
    if (what === 'end') {
      inProgress.delete(file);
      ended.push({ file, outcome, ms: Number(ms) });
    }
  }
}

const seconds = (ms) => `${Math.round(ms / 1000)} s`;
const running = () =>
  [...inProgress].map(([file, since]) => `  ${relative(ROOT, file)} (for ${seconds(Date.now() - since)})`).join('\n') || '  (none that had started)';

function killGroup(signal) {
  try {
    if (process.platform === 'win32') runner.kill(signal);
    else process.kill(-runner.pid, signal);
  } catch {
    // ended already
  }
}

function groupAlive() {
  try {
    process.kill(-runner.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM (or the signal we got) first: each file's process kills the apps it started (test/support/children.ts). */
function endGroup(signal, unref) {
  killGroup(signal);
  const last = setTimeout(() => killGroup('SIGKILL'), 10_000);
  if (unref) last.unref();
}

let stopping = false;
function stop(why, signal = 'SIGTERM') {
  readProgress();
  console.error(`\ntools/test.js: ${why}; files in progress:\n${running()}`);
  if (stopping) return;
  stopping = true;
  endGroup(signal, true);
}

const warned = new Set();
const poll = setInterval(() => {
  readProgress();
  for (const [file, since] of inProgress) {
    // Its own bound should have ended it by now: say so once, the run goes on to its own bound.
    if (Date.now() - since > FILE_TIMEOUT_MS + 30_000 && !warned.has(file)) {
      warned.add(file);
      console.error(`\ntools/test.js: ${relative(ROOT, file)} still runs ${seconds(Date.now() - since)} after it started, past its bound (${seconds(FILE_TIMEOUT_MS)})`);
    }
  }
}, 1000);
const total = setTimeout(() => stop(`the run took longer than its bound (${seconds(TOTAL_TIMEOUT_MS)}, INNATURAL_TEST_TOTAL_TIMEOUT_MS); stopping it`), TOTAL_TIMEOUT_MS);
let signalled;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    signalled = signal;
    stop(`${signal} received; stopping the run`, signal);
  });
}

runner.on('error', (err) => {
  console.error(`tools/test.js: cannot run ${process.execPath}: ${err.message}`);
  process.exitCode = 1;
});
runner.on('exit', (code, signal) => {
  clearInterval(poll);
  clearTimeout(total);
  readProgress();
  if (inProgress.size > 0 && !stopping) {
    console.error(`\ntools/test.js: the test runner ended (${signal ?? `code ${code}`}) with files in progress:\n${running()}`);
    // Their processes outlive it: end them rather than leave them to their own bound.
    endGroup('SIGTERM', false);
  } else if (!stopping && process.platform !== 'win32' && groupAlive()) {
    // What a test started outside the helpers and left running (its file's process gone, it is an orphan in our group).
    console.error('tools/test.js: processes the tests left running are killed');
    killGroup('SIGKILL');
  }
  const slowest = ended.sort((a, b) => b.ms - a.ms).slice(0, 3);
  if (slowest.length > 0) {
    console.error(
      `tools/test.js: ${ended.length} files in ${seconds(Date.now() - started)}; slowest ${slowest.map((f) => `${relative(ROOT, f.file)} ${seconds(f.ms)}`).join(', ')}; a file's bound ${seconds(FILE_TIMEOUT_MS)}`,
    );
  }
  rmSync(progressDir, { recursive: true, force: true });
  // The runner's own status, or 1 when it died of a signal or was stopped: a CI step must never read that as a pass.
  process.exitCode = signalled ? 128 + constants.signals[signalled] : stopping || code === null ? 1 : code;
});
