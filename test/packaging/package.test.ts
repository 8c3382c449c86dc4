/**
 * The package as a user gets it: `npm pack` of this repository, installed from the tarball into
 * a fresh app with Express (npm's cache and registry only), then run the two documented ways.
 * One pack and one install, shared by every case; the checks are the tarball's contents, the
 * installed size, the source maps, and the app under `--require` and `--import`, with and without
 * SENTRY_DSN, with an instrumentation's target and not its package, and `npx innatural-otel doctor`.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO, baseEnv, parseLogLines } from '../support/app';
import { tempDir } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { parseExposition } from '../support/prom-text';
import { waitFor } from '../support/wait';

const run = promisify(execFile);

/** The 3.x issue's bound, for the package and Express in a blank app (EDOT's install is 84 MB). */
const MAX_INSTALL_MB = 60;
const PKG = '@innatural/otel';
const SENTRY_MISSING = 'SENTRY_DSN is set but @sentry/node is not installed: npm install @sentry/node@^11.1.0; until then errors are logged locally only';

/**
 * Only what npm needs: the developer's or CI's npm settings and the way to the registry (a proxy
 * and its certificate authority), never the parent npm's run-time variables.
 */
function npmEnv(): Record<string, string> {
  const env = baseEnv();
  const network = ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy'];
  for (const key of ['npm_config_cache', 'NPM_CONFIG_CACHE', 'npm_config_registry', 'NPM_CONFIG_REGISTRY', ...network]) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

async function npm(args: string[], cwd: string, timeoutMs = 240_000): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd, env: npmEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
}

interface PackedFile {
  readonly path: string;
  readonly size: number;
}

/** Disk usage as du counts it (allocated blocks), and the number of packages, of a node_modules tree. */
function usage(dir: string): { bytes: number; packages: number } {
  let bytes = 0;
  let packages = 0;
  const walk = (path: string) => {
    const stat = lstatSync(path);
    bytes += stat.blocks * 512;
    if (!stat.isDirectory()) return;
    for (const name of readdirSync(path)) {
      const child = join(path, name);
      if (/[/\\]node_modules[/\\](@[^/\\]+[/\\])?[^@/\\][^/\\]*$/.test(child) && existsSync(join(child, 'package.json'))) packages++;
      walk(child);
    }
  };
  walk(dir);
  return { bytes, packages };
}

const SERVER_CJS = `'use strict';
const express = require('express');
const app = express();
app.get('/api/items/:id', (req, res) => res.json({ id: req.params.id }));
app.get('/api/boom', () => { throw new Error('packaged handler exploded'); });
// The app's first require of koa, whose instrumentation is not installed.
app.get('/api/koa', (req, res) => res.json({ koa: require('koa').name }));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

const SERVER_ESM = `import express from 'express';
const app = express();
app.get('/api/items/:id', (req, res) => res.json({ id: req.params.id }));
const server = app.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

interface Running {
  readonly proc: ChildProcess;
  readonly url: string;
  lines(): Array<Record<string, unknown>>;
  stderr(): string;
  kill(): void;
}

/** `node <preload flag> @innatural/otel/register <script>` in the app's folder, as the README says. */
async function startPackaged(appDir: string, flag: '--require' | '--import', script: string, env: Record<string, string>): Promise<Running> {
  const proc = spawn(process.execPath, [flag, `${PKG}/register`, script], { cwd: appDir, env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const port = await waitFor(() => /listening (\d+)/.exec(out)?.[1], 20_000, script, () => `stdout: ${out}\nstderr: ${err}`);
  return {
    proc,
    url: `http://127.0.0.1:${port}`,
    lines: () => parseLogLines(err),
    stderr: () => err,
    kill: () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    },
  };
}

async function healthOf(app: Running): Promise<string> {
  const line = await waitFor(() => app.lines().find((l) => l.message === 'Health server listening'), 10_000, 'health server', app.stderr);
  return `http://127.0.0.1:${String(line.port)}`;
}

describe('the packed package, installed from its tarball', () => {
  let work: string;
  let appDir: string;
  let tarball: string;
  let installLog: string;
  let sink: OtlpSink;

  before(async () => {
    work = tempDir('packaging');
    // --ignore-scripts: prepack would rebuild dist/ under the other tests' feet; the tests run from the built dist/.
    const { stdout } = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], REPO, 120_000);
    tarball = join(work, (JSON.parse(stdout) as Array<{ filename: string }>)[0]!.filename);
    appDir = join(work, 'app');
    mkdirSync(appDir);
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'packaged-app', version: '1.0.0', private: true }));
    writeFileSync(join(appDir, 'server.js'), SERVER_CJS);
    writeFileSync(join(appDir, 'server.mjs'), SERVER_ESM);
    // The Express this repository tests with, so npm's cache has it.
    const express = (JSON.parse(readFileSync(join(REPO, 'node_modules', 'express', 'package.json'), 'utf8')) as { version: string }).version;
    const install = await npm(['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `express@${express}`], appDir);
    installLog = install.stdout + install.stderr;
    sink = await startOtlpSink();
  });
  after(async () => {
    await sink?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('npm pack --dry-run lists LICENSE, the register entries, the bundle, the bin and the built API, and no tests, fixtures or sources', async () => {
    const { stdout } = await npm(['pack', '--dry-run', '--ignore-scripts', '--json'], REPO, 120_000);
    const files = (JSON.parse(stdout) as Array<{ files: PackedFile[] }>)[0]!.files.map((f) => f.path);
    for (const path of ['LICENSE', 'README.md', 'package.json', 'register.js', 'register.mjs', 'dist/preload.js', 'dist/preload.js.map', 'bin/innatural-otel.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/doctor/cli.js']) {
      assert.ok(files.includes(path), `${path} is shipped`);
    }
    const unwanted = files.filter(
      (p) => /(^|\/)test\/|\.test\.|\.fixture\.|fixtures\//.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')) || /^(src|bench|collector|deploy|docs|examples|tools|\.ci)\//.test(p),
    );
    assert.deepEqual(unwanted, []);
    assert.match(readFileSync(join(REPO, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/);
  });

  it(`the install is at most ${MAX_INSTALL_MB} MB with Express, runs no install script of ours, and brings neither Sentry nor auto-instrumentations-node`, () => {
    const { bytes, packages } = usage(join(appDir, 'node_modules'));
    const ours = usage(join(appDir, 'node_modules', PKG));
    const mb = bytes / 1024 / 1024;
    console.log(`# installed size: ${mb.toFixed(1)} MB in ${packages} packages (${PKG} itself ${(ours.bytes / 1024 / 1024).toFixed(1)} MB)`);
    assert.ok(mb <= MAX_INSTALL_MB, `${mb.toFixed(1)} MB installed`);
    // npm 11 lists the packages whose install scripts it did not run; ours must not be one.
    assert.doesNotMatch(installLog, /@innatural\/otel@\S+ \(/, installLog);
    const scripts = (JSON.parse(readFileSync(join(appDir, 'node_modules', PKG, 'package.json'), 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    assert.deepEqual(Object.keys(scripts).filter((s) => ['preinstall', 'install', 'postinstall', 'prepare'].includes(s)), []);
    for (const absent of ['@sentry/node', '@sentry/profiling-node', '@opentelemetry/auto-instrumentations-node']) {
      assert.ok(!existsSync(join(appDir, 'node_modules', absent)), `${absent} is not installed by default`);
    }
  });

  it('every source map shipped resolves: each source it names is in the map', () => {
    const root = join(appDir, 'node_modules', PKG);
    const maps: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.map')) maps.push(path);
      }
    };
    walk(join(root, 'dist'));
    assert.ok(maps.length > 10, `${maps.length} maps`);
    const unresolved: string[] = [];
    for (const file of maps) {
      const map = JSON.parse(readFileSync(file, 'utf8')) as { sources: string[]; sourcesContent?: Array<string | null> };
      map.sources.forEach((source, i) => {
        if (typeof map.sourcesContent?.[i] === 'string') return;
        if (!existsSync(resolve(file, '..', source))) unresolved.push(`${relative(root, file)}: ${source}`);
      });
    }
    assert.deepEqual(unresolved.slice(0, 10), []);
  });

  for (const [flag, script] of [
    ['--require', 'server.js'],
    ['--import', 'server.mjs'],
  ] as const) {
    it(`node ${flag} ${PKG}/register: the request is counted on /metrics and its span reaches the OTLP sink`, async () => {
      const service = `packaged-${flag.slice(2)}`;
      const app = await startPackaged(appDir, flag, script, {
        OTEL_SERVICE_NAME: service,
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_BSP_SCHEDULE_DELAY: '50',
        INNATURAL_HEALTH_PORT: '0',
        INNATURAL_HEALTH_HOST: '127.0.0.1',
      });
      try {
        const health = await healthOf(app);
        assert.deepEqual(await (await fetch(`${app.url}/api/items/7`)).json(), { id: '7' });
        const metrics = parseExposition(await (await fetch(`${health}/metrics`)).text());
        assert.equal(metrics.value('innatural_chatbot_http_requests_total', { method: 'GET', route: '/api/items/:id', status_code: '200' }), 1);
        const span = await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === service && s.kind === 2));
        assert.equal(span.name, 'GET /api/items/:id');
        assert.equal(span.attributes['http.route'], '/api/items/:id');
        const started = app.lines().find((l) => l.message === '@innatural/otel started');
        assert.ok(started, app.stderr());
        assert.deepEqual(app.lines().filter((l) => l.level === 'error' || l.level === 'warn'), []);
      } finally {
        app.kill();
      }
    });
  }

  it('with SENTRY_DSN and no @sentry/node: one line naming the package to install, errors still on stderr, requests served; doctor says the same', async () => {
    const env = { SENTRY_DSN: 'https://publickey@sentry.example.invalid/1', OTEL_TRACES_EXPORTER: 'none', INNATURAL_HEALTH_PORT: '0', INNATURAL_HEALTH_HOST: '127.0.0.1' };
    const app = await startPackaged(appDir, '--require', 'server.js', env);
    try {
      assert.equal((await fetch(`${app.url}/api/items/1`)).status, 200);
      assert.equal((await fetch(`${app.url}/api/boom`)).status, 500);
      const error = await waitFor(() => app.lines().find((l) => l.message === 'packaged handler exploded'), 5000, 'error line', app.stderr);
      assert.equal(error.level, 'error');
      const sentry = app.lines().filter((l) => /@sentry\/node/.test(String(l.message)));
      assert.deepEqual(
        sentry.map((l) => [l.level, l.message]),
        [['error', SENTRY_MISSING]],
      );
    } finally {
      app.kill();
    }
    const doctor = await runDoctor(appDir, { ...env, OTEL_LOGS_EXPORTER: 'none' });
    const finding = doctor.report.findings.find((f) => f.subject === '@sentry/node');
    assert.deepEqual(finding && [finding.level, finding.message], ['error', SENTRY_MISSING]);
  });

  it('an instrumentation we do not ship: koa installed without its instrumentation is one line at the app’s first require of koa, and a doctor finding', async () => {
    const koa = join(appDir, 'node_modules', 'koa');
    mkdirSync(koa, { recursive: true });
    writeFileSync(join(koa, 'package.json'), JSON.stringify({ name: 'koa', version: '2.16.0', main: 'index.js' }));
    writeFileSync(join(koa, 'index.js'), "exports.name = 'koa';\n");
    try {
      const app = await startPackaged(appDir, '--require', 'server.js', { OTEL_TRACES_EXPORTER: 'console', INNATURAL_HEALTH_PORT: '0', INNATURAL_HEALTH_HOST: '127.0.0.1' });
      try {
        const missing = () => app.lines().filter((l) => /instrumentation-koa/.test(String(l.message)));
        const health = await healthOf(app);
        const states = (await (await fetch(`${health}/api/health`)).json()) as { instrumentations: { missing: string[] } };
        assert.deepEqual(states.instrumentations.missing, ['koa'], '/api/health names it');
        assert.deepEqual(missing(), [], 'nothing said while the app has not loaded koa');
        assert.deepEqual(app.lines().find((l) => l.message === '@innatural/otel started')?.instrumentationNotInstalled, ['koa']);
        assert.deepEqual(await (await fetch(`${app.url}/api/koa`)).json(), { koa: 'koa' });
        await fetch(`${app.url}/api/koa`);
        const lines = await waitFor(() => missing().length > 0 && missing(), 5000, 'missing line', app.stderr);
        assert.deepEqual(
          lines.map((l) => [l.level, l.message]),
          [
            [
              'warn',
              'Instrumentation koa is enabled but @opentelemetry/instrumentation-koa is not installed, so koa is not traced: npm install @opentelemetry/instrumentation-koa (or @opentelemetry/auto-instrumentations-node, which has every instrumentation), or add koa to OTEL_NODE_DISABLED_INSTRUMENTATIONS',
            ],
          ],
        );
      } finally {
        app.kill();
      }
      const doctor = await runDoctor(appDir, { OTEL_TRACES_EXPORTER: 'console', OTEL_LOGS_EXPORTER: 'none' });
      assert.deepEqual(doctor.report.instrumentations.instrumentationNotInstalled, [{ name: 'koa', package: '@opentelemetry/instrumentation-koa' }]);
      assert.equal(doctor.report.findings.find((f) => f.subject === '@opentelemetry/instrumentation-koa')?.level, 'warn');
      assert.equal(doctor.code, 1);
    } finally {
      rmSync(koa, { recursive: true, force: true });
    }
  });

  it('npx innatural-otel doctor runs from the installed package and finds the OTLP endpoint', async () => {
    const doctor = await runDoctor(appDir, { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
    assert.equal(doctor.code, 0, JSON.stringify(doctor.report.findings));
    assert.deepEqual(
      doctor.report.findings.filter((f) => f.subject.startsWith('otlp')).map((f) => [f.subject, f.level]),
      [['otlp traces', 'ok']],
    );
    assert.ok(doctor.report.instrumentations.load.some((i) => i.name === 'express'));
  });

  // Last: it adds to the shared app. From the registry, at npm's `latest`, as a user adds them today.
  it('what users add beside us at latest (the API, auto-instrumentations-node, a contrib instrumentation) installs with no ERESOLVE, a clean npm ls and one API copy', async () => {
    const added = await npm(
      ['install', '--no-audit', '--no-fund', '@opentelemetry/api@latest', '@opentelemetry/auto-instrumentations-node@latest', '@opentelemetry/instrumentation-koa@latest', 'koa@latest'],
      appDir,
      480_000,
    );
    const output = added.stdout + added.stderr;
    assert.doesNotMatch(output, /ERESOLVE|EBADENGINE/, output);
    // npm ls exits non-zero on any invalid, missing or extraneous package: the promise rejects.
    await npm(['ls', '--all'], appDir);
    const { stdout } = await npm(['ls', '@opentelemetry/api', '--all', '--parseable'], appDir);
    assert.deepEqual([...new Set(stdout.split('\n').filter(Boolean))], [join(appDir, 'node_modules', '@opentelemetry', 'api')], 'one copy of the API');
  });
});

interface DoctorReport {
  readonly findings: Array<{ level: string; subject: string; message: string }>;
  readonly instrumentations: { load: Array<{ name: string }>; instrumentationNotInstalled: Array<{ name: string; package: string }> };
}

/** `npx innatural-otel doctor --json` in the app, as the README says. */
async function runDoctor(appDir: string, env: Record<string, string>): Promise<{ code: number; report: DoctorReport }> {
  const child = spawn('npx', ['--no', 'innatural-otel', 'doctor', '--json', '--timeout', '2000'], { cwd: appDir, env: { ...npmEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await new Promise<number>((done) => child.on('close', (c) => done(c ?? -1)));
  try {
    return { code, report: JSON.parse(out) as DoctorReport };
  } catch {
    throw new Error(`doctor printed no JSON (exit ${code}):\n${out}\n${err}`);
  }
}
