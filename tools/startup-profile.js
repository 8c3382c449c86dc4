'use strict';
/**
 * The module-load timer: what a start loads, per package, until the app's first response.
 *
 *   node tools/startup-profile.js [full|metrics|none ...] [--runs N] [--top N] [--repo DIR ...]
 *        [--wall | --callgrind]
 *
 * Spawns bench/app.js under the preload with this file required first, as its own hook: every
 * require is timed (resolution, read, compile and evaluation), its self time is its total less
 * its children's, and both are summed per package. A bundled file counts as one module. Times
 * are medians over the runs; module counts and bytes compiled do not depend on the machine's load.
 * A measuring tool, never a test: the hook's own wrapper adds a little to every require.
 *
 * --wall: spawn to first response only, no hook (what `npm run bench` measures), interleaved.
 * --callgrind: instructions (valgrind) from spawn to the end of the app's main script, which
 *   do not depend on what else the machine runs. --repo: a copy of the package to compare
 *   (its register.js, dist/ and node_modules); the default is this checkout.
 */
const Module = require('node:module');

if (process.env.STARTUP_PROFILE_EXIT) exitAfterMain();
else if (process.env.STARTUP_PROFILE_OUT) hook(process.env.STARTUP_PROFILE_OUT);
else if (require.main === module) main().catch((err) => {
  process.stderr.write(`${err.stack}\n`);
  process.exitCode = 1;
});

/** Under callgrind: the count stops once the main script has run, before any listen or timer. */
function exitAfterMain() {
  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    const loaded = originalLoad.apply(this, arguments);
    if (isMain) process.exit(0);
    return loaded;
  };
}

/** Runs in the profiled process: times every require, writes the report on SIGUSR2. */
function hook(out) {
  const { writeFileSync } = require('node:fs');
  const { builtinModules } = Module;
  const records = [];
  const stack = [];
  const seenBuiltins = new Set();
  let phase = 'preload';
  let bytes = { preload: 0, app: 0 };
  let mainAt;

  const originalLoad = Module._load;
  Module._load = function load(request, parent, isMain) {
    if (isMain) {
      phase = 'app';
      mainAt = performance.now();
    }
    const frame = { request, filename: undefined, children: 0, phase };
    stack.push(frame);
    const t0 = performance.now();
    try {
      return originalLoad.apply(this, arguments);
    } finally {
      const total = performance.now() - t0;
      stack.pop();
      const up = stack[stack.length - 1];
      const bare = request.startsWith('node:') ? request.slice(5) : request;
      if (!frame.filename && builtinModules.includes(bare) && !seenBuiltins.has(bare)) {
        seenBuiltins.add(bare);
        frame.filename = `node:${bare}`;
      }
      if (frame.filename) {
        records.push({ file: frame.filename, pkg: packageOf(frame.filename), total, self: total - frame.children, phase: frame.phase, parentPkg: up?.filename && packageOf(up.filename) });
        if (up) up.children += total;
      }
      // A cached require's few microseconds stay in its parent's self time.
    }
  };
  const originalModuleLoad = Module.prototype.load;
  Module.prototype.load = function (filename) {
    const frame = stack[stack.length - 1];
    if (frame && !frame.filename) frame.filename = filename;
    return originalModuleLoad.apply(this, arguments);
  };
  const originalCompile = Module.prototype._compile;
  Module.prototype._compile = function (content) {
    bytes[phase] += content.length;
    return originalCompile.apply(this, arguments);
  };

  process.on('SIGUSR2', () => {
    writeFileSync(out, JSON.stringify({ records, bytes, mainAt, firstResponseAt: performance.now() }));
  });
}

function packageOf(filename) {
  if (filename.startsWith('node:')) return filename;
  const i = filename.lastIndexOf('/node_modules/');
  if (i < 0) return filename.includes('/dist/') || filename.endsWith('/register.js') ? '@innatural/otel' : '(app)';
  const parts = filename.slice(i + '/node_modules/'.length).split('/');
  return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

async function main() {
  const { spawn, spawnSync } = require('node:child_process');
  const { mkdtempSync, readFileSync, rmSync, existsSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join, resolve } = require('node:path');
  const http = require('node:http');
  const argv = process.argv.slice(2);
  const take = (name) => {
    const i = argv.indexOf(name);
    return i < 0 ? undefined : argv.splice(i, 2)[1];
  };
  const has = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 && argv.splice(i, 1).length > 0;
  };
  const runs = Number(take('--runs') ?? 5);
  const top = Number(take('--top') ?? 15);
  const repos = [];
  for (let r; (r = take('--repo')) !== undefined; ) repos.push(resolve(r));
  const wall = has('--wall');
  const callgrind = has('--callgrind');
  const modes = argv.length > 0 ? argv : ['full', 'metrics'];
  if (repos.length === 0) repos.push(join(__dirname, '..'));
  const dir = mkdtempSync(join(tmpdir(), 'startup-profile-'));
  const base = { PATH: process.env.PATH, HOME: process.env.HOME ?? '/tmp', PORT: '0' };
  // Nothing listens on the OTLP port: exports start after the first response, and the process is killed by then.
  const ours = { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', INNATURAL_HEALTH_PORT: '0', INNATURAL_HEALTH_HOST: '127.0.0.1', OTEL_LOG_LEVEL: 'warn' };
  const extra = process.env.STARTUP_PROFILE_ENV ? JSON.parse(process.env.STARTUP_PROFILE_ENV) : {};
  const ENVS = {
    none: { args: [], env: base },
    full: { args: ['--require', './register'], env: { ...ours, ...extra } },
    metrics: { args: ['--require', './register'], env: { ...ours, OTEL_TRACES_EXPORTER: 'none', ...extra } },
  };
  const variants = repos.flatMap((repo) => modes.map((mode) => ({ repo, mode, name: repos.length > 1 ? `${mode} @ ${repo}` : mode })));
  const get = (port) =>
    new Promise((resolve, reject) => http.get(`http://127.0.0.1:${port}/api/users/0`, { agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject));

  const once = ({ repo, mode }, i) =>
    new Promise((resolve, reject) => {
      const out = join(dir, `${mode}-${i}.json`);
      const { args, env } = ENVS[mode];
      const hookArgs = wall ? [] : ['--require', __filename];
      const t0 = performance.now();
      const proc = spawn(process.execPath, [...hookArgs, ...args, join(repo, 'bench/app.js')], { cwd: repo, env: { ...env, STARTUP_PROFILE_OUT: out }, stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      proc.stdout.on('data', async (d) => {
        stdout += d;
        const port = /listening (\d+)/.exec(stdout)?.[1];
        if (!port || proc.killed) return;
        try {
          await get(port);
          if (wall) {
            const ms = performance.now() - t0;
            proc.kill('SIGKILL');
            return resolve(ms);
          }
          proc.kill('SIGUSR2');
          for (let t = 0; t < 200 && !existsSync(out); t++) await new Promise((r) => setTimeout(r, 10));
          proc.kill('SIGKILL');
          resolve(JSON.parse(readFileSync(out, 'utf8')));
        } catch (err) {
          proc.kill('SIGKILL');
          reject(err);
        }
      });
      proc.on('exit', (code) => code !== null && reject(new Error(`app exited with ${code}`)));
    });

  // The exit code is the app's own (0 at the end of its main script): only the count matters here.
  const instructions = ({ repo, mode }) => {
    const { args, env } = ENVS[mode];
    const run = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--require', __filename, ...args, join(repo, 'bench/app.js')], {
      cwd: repo,
      env: { ...env, STARTUP_PROFILE_EXIT: '1' },
      encoding: 'utf8',
    });
    const count = /Collected : (\d+)/.exec(run.stderr)?.[1];
    if (!count) throw new Error(`valgrind gave no count: ${run.error?.message ?? run.stderr.slice(-500)}`);
    return Number(count);
  };

  const results = Object.fromEntries(variants.map((v) => [v.name, []]));
  // Interleaved, so that the machine's drift falls on every variant alike.
  for (let i = 0; i < runs; i++) {
    for (const v of variants) {
      results[v.name].push(callgrind ? instructions(v) : await once(v, i));
      if (callgrind) process.stderr.write(`${v.name}: ${results[v.name].at(-1)}\n`);
    }
  }
  rmSync(dir, { recursive: true, force: true });

  console.log(`${process.version}, ${runs} runs per variant, interleaved, medians`);
  for (const v of variants) {
    const xs = results[v.name];
    if (wall) console.log(`${median(xs).toFixed(1).padStart(7)} ms  spawn to first response  ${v.name}  (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`);
    else if (callgrind) console.log(`${(median(xs) / 1e6).toFixed(1).padStart(8)} M instructions  spawn to end of main script  ${v.name}  (${xs.map((x) => (x / 1e6).toFixed(1)).join(', ')})`);
    else report(v.name, xs, top);
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function report(mode, runs, top) {
  const f = (n) => n.toFixed(1).padStart(7);
  console.log(`\n== ${mode}: main script required at ${f(median(runs.map((r) => r.mainAt)))} ms, first response at ${f(median(runs.map((r) => r.firstResponseAt)))} ms (process clock)`);
  for (const phase of ['preload', 'app']) {
    const perRun = runs.map((r) => summarize(r.records.filter((x) => x.phase === phase)));
    const first = runs[0].records.filter((x) => x.phase === phase);
    const files = first.filter((x) => !x.file.startsWith('node:')).length;
    const kb = (runs[0].bytes[phase] / 1024).toFixed(0);
    const packages = new Set(perRun.flatMap((p) => Object.keys(p)));
    const rows = [...packages].map((pkg) => ({
      pkg,
      self: median(perRun.map((p) => p[pkg]?.self ?? 0)),
      total: median(perRun.map((p) => p[pkg]?.total ?? 0)),
      modules: perRun[0][pkg]?.modules ?? 0,
    }));
    const sum = median(perRun.map((p) => Object.values(p).reduce((a, r) => a + r.self, 0)));
    console.log(`-- ${phase === 'preload' ? 'before the app\'s first line' : 'after (the app and what its requires defer)'}: ${files} files, ${kb} KiB compiled, ${first.length - files} builtins first required, ${sum.toFixed(1)} ms in requires`);
    console.log(`   ${'self ms'.padStart(7)} ${'total'.padStart(7)} modules  package`);
    for (const r of rows.sort((a, b) => b.self - a.self).slice(0, top)) console.log(`   ${f(r.self)} ${f(r.total)} ${String(r.modules).padStart(7)}  ${r.pkg}`);
  }
}

/** Self time per package; total counts only the outermost require into each package, so nesting is not counted twice. */
function summarize(records) {
  const by = {};
  for (const r of records) {
    const row = (by[r.pkg] ??= { self: 0, total: 0, modules: 0 });
    row.self += r.self;
    row.modules += 1;
    if (r.parentPkg !== r.pkg) row.total += r.total;
  }
  return by;
}
