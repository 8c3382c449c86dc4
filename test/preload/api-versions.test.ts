/**
 * Apps that bring their own @opentelemetry/api, laid out in temporary folders as npm lays
 * them out: a newer minor (a simulated 1.11, made from ours) in the app's own node_modules
 * (nested) and at the top of node_modules with the SDK and its instrumentations beside it
 * (hoisted, with and without a copy of ours under @innatural/otel); an older one (the real 1.9,
 * the `opentelemetry-api-1.9` dev dependency, so no network at test time) in the app's own
 * node_modules; and a simulated 2.0 that cannot share the globals.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HTTP_SERVER_SCOPE } from '../../src/instrumentations/http-server';
import { baseEnv, FIXTURES, REPO, sinkEnv, startApp, type RunningApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

const SERVER = 2;
const API_1_9 = join(REPO, 'node_modules', 'opentelemetry-api-1.9');
const OUR_API = join(REPO, 'node_modules', '@opentelemetry', 'api');
const OUR_VERSION = (JSON.parse(readFileSync(join(OUR_API, 'package.json'), 'utf8')) as { version: string }).version;
/** The next minor after ours: what an app that upgrades the API before we do brings. */
const NEWER = OUR_VERSION.replace(/^(\d+)\.(\d+)\..*$/, (_, major: string, minor: string) => `${major}.${Number(minor) + 1}.0`);
const newerApi = (to: string) => copyApi(OUR_API, to, NEWER);

/** A real copy (never a hard link: the 2.0 one is edited). `version` rewrites every place the package names its own. */
function copyApi(from: string, to: string, version?: string): void {
  cpSync(from, to, { recursive: true });
  if (!version) return;
  const own = (JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as { version: string }).version;
  const edit = (file: string) => writeFileSync(file, readFileSync(file, 'utf8').split(own).join(version));
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.(c|m)?js$/.test(entry.name)) edit(path);
    }
  };
  walk(to);
  edit(join(to, 'package.json'));
}

/** An app folder: package.json and the fixture as server.js; returns the script. */
function appIn(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'api-app', version: '1.0.0', private: true }));
  copyFileSync(join(FIXTURES, 'api-app.js'), join(dir, 'server.js'));
  return join(dir, 'server.js');
}

/**
 * node_modules as npm hoists it for an app depending on @innatural/otel and a newer @opentelemetry/api:
 * every package at the top (hard links to ours: nothing is copied, nothing may be written through
 * them), the newer API at the top, @innatural/otel as a package with, optionally, its own nested copy.
 */
function hoisted(root: string, nestedOurs: boolean): string {
  const modules = join(root, 'node_modules');
  mkdirSync(root, { recursive: true });
  try {
    execFileSync('cp', ['-al', join(REPO, 'node_modules'), modules], { stdio: 'pipe' });
  } catch {
    rmSync(modules, { recursive: true, force: true });
    execFileSync('cp', ['-a', join(REPO, 'node_modules'), modules], { stdio: 'pipe' }); // another file system
  }
  rmSync(join(modules, '@opentelemetry', 'api'), { recursive: true });
  newerApi(join(modules, '@opentelemetry', 'api'));
  const pkg = join(modules, '@innatural', 'otel');
  mkdirSync(pkg, { recursive: true });
  for (const file of ['package.json', 'register.js', 'register.mjs']) copyFileSync(join(REPO, file), join(pkg, file));
  cpSync(join(REPO, 'dist'), join(pkg, 'dist'), { recursive: true });
  if (nestedOurs) copyApi(OUR_API, join(pkg, 'node_modules', '@opentelemetry', 'api'));
  return join(pkg, 'register.js');
}

describe('apps with their own @opentelemetry/api', () => {
  let sink: OtlpSink;
  let root: string;
  before(async () => {
    sink = await startOtlpSink();
    root = mkdtempSync(join(tmpdir(), 'innatural-api-'));
  });
  after(async () => {
    await sink?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const run = (script: string, service: string, register = join(REPO, 'register.js')) =>
    startApp({ fixture: script, preload: 'none', nodeArgs: ['--require', register], env: sinkEnv(sink, { OTEL_SERVICE_NAME: service }) });

  /** The app's manual span, our server span and the fetch instrumentation's span: one trace, each the parent of the next. */
  async function assertOneTrace(app: RunningApp, service: string): Promise<void> {
    assert.equal(await (await app.get('/')).text(), 'ok');
    const server = await sink.waitFor(() =>
      sink.spans.find((s) => s.resource['service.name'] === service && s.kind === SERVER && s.attributes['url.path'] === '/'),
    );
    assert.equal(server.scope.name, HTTP_SERVER_SCOPE);
    const manual = await sink.waitFor(() => sink.spans.find((s) => s.traceId === server.traceId && s.name === 'manual'));
    assert.equal(manual.scope.name, 'api-app');
    assert.equal(manual.parentSpanId, server.spanId, 'the manual span is a child of the server span');
    const fetchSpan = await sink.waitFor(() =>
      sink.spans.find((s) => s.traceId === server.traceId && s.scope.name === '@opentelemetry/instrumentation-undici'),
    );
    assert.equal(fetchSpan.parentSpanId, manual.spanId, 'the instrumentations see the same context');
    assert.deepEqual(
      app.logLines().filter((l) => l.level === 'error' || l.level === 'warn'),
      [],
    );
  }

  for (const [what, copy] of [
    [`a newer ${NEWER}`, newerApi],
    ['an older 1.9.1', (to: string) => copyApi(API_1_9, to)],
  ] as const) {
    it(`${what} in the app’s own node_modules: the manual span and the server span are one trace`, async () => {
      const dir = join(root, `nested-${what.split(' ')[1]}`);
      const script = appIn(dir);
      copy(join(dir, 'node_modules', '@opentelemetry', 'api'));
      const service = `nested-${what.split(' ')[1]}`;
      const app = await run(script, service);
      try {
        assert.match(app.stdout(), new RegExp(`api ${dir}/node_modules/@opentelemetry/api/`), 'the app loads its own copy');
        await assertOneTrace(app, service);
      } finally {
        app.kill();
      }
    });
  }

  for (const nestedOurs of [true, false]) {
    const layout = nestedOurs ? `our ${OUR_VERSION} nested under @innatural/otel (an exact pin)` : 'as the only copy (our peer dependency)';
    it(`${NEWER} hoisted to the top of node_modules, ${layout}: one trace`, async () => {
      const dir = join(root, nestedOurs ? 'hoisted-pinned' : 'hoisted');
      const register = hoisted(dir, nestedOurs);
      const script = appIn(join(dir, 'app'));
      const service = nestedOurs ? 'hoisted-pinned' : 'hoisted';
      const app = await run(script, service, register);
      try {
        assert.match(app.stdout(), new RegExp(`api ${dir}/node_modules/@opentelemetry/api/`));
        await assertOneTrace(app, service);
      } finally {
        app.kill();
      }
    });
  }

  it('a simulated 2.0: one error line naming both versions and the fix, the app serves, doctor reports an error', async () => {
    const dir = join(root, 'major');
    const script = appIn(dir);
    copyApi(OUR_API, join(dir, 'node_modules', '@opentelemetry', 'api'), '2.0.0');
    const app = await run(script, 'major');
    try {
      assert.equal(await (await app.get('/')).text(), 'ok', 'the app serves');
      const errors = app.logLines().filter((l) => l.level === 'error');
      assert.equal(errors.length, 1, app.stderr());
      assert.equal(
        errors[0]!.message,
        `The app's @opentelemetry/api 2.0.0 (${dir}/node_modules/@opentelemetry/api) cannot use the OpenTelemetry globals, ` +
          `which @innatural/otel registers with @opentelemetry/api ${OUR_VERSION}: spans, metrics and context made through it are dropped; ` +
          `fix: npm install @opentelemetry/api@^${OUR_VERSION.replace(/\.\d+$/, '.0')} (the major the SDK uses)`,
      );
      // Ours still work: the server span is exported, the 2.0 app's manual span is not.
      const server = await sink.waitFor(() => sink.spans.find((s) => s.resource['service.name'] === 'major' && s.kind === SERVER));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(sink.spans.filter((s) => s.traceId === server.traceId && s.name === 'manual').length, 0);
    } finally {
      app.kill();
    }
    const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'innatural-otel.js'), 'doctor', '--json'], {
      cwd: dir,
      env: { ...baseEnv(), OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' },
      encoding: 'utf8',
    });
    assert.equal(doctor.status, 2, doctor.stderr);
    const report = JSON.parse(doctor.stdout) as { findings: Array<{ level: string; subject: string; message: string }> };
    const found = report.findings.filter((f) => f.subject === '@opentelemetry/api');
    assert.deepEqual(
      found.map((f) => f.level),
      ['error'],
    );
    assert.match(found[0]!.message, /2\.0\.0 .* cannot use the OpenTelemetry globals.*fix: npm install @opentelemetry\/api@\^1\./);
  });
});
