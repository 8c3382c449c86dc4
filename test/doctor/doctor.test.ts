/**
 * `innatural-otel doctor`, run as users run it (the bin, a child process, its own env and
 * working directory) against local sinks, a closed port, a blackholed port, the real
 * PostgreSQL and Redis, and a table of misconfigurations: its findings and exit status.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO, baseEnv } from '../support/app';
import { freePort, tempDir } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { startSentrySink, type SentrySink } from '../support/sentry-sink';

interface Finding {
  level: 'ok' | 'warn' | 'error';
  subject: string;
  message: string;
}
interface Report {
  status: string;
  exitCode: number;
  configuration: unknown;
  instrumentations: { load: Array<{ name: string }>; notInstalled: Array<{ name: string; packages: string[] }> };
  findings: Finding[];
}
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** An app folder with `installed` in its node_modules (empty packages), declaring them and koa, which is not installed. */
function appDir(installed: Record<string, string>): string {
  const dir = tempDir('doctor-app');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', version: '1.2.3', dependencies: { ...installed, koa: '^2.0.0' } }));
  for (const [name, version] of Object.entries(installed)) {
    mkdirSync(join(dir, 'node_modules', name), { recursive: true });
    writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: version.replace(/^\^/, ''), main: 'index.js' }));
    writeFileSync(join(dir, 'node_modules', name, 'index.js'), 'module.exports = {};\n');
  }
  return dir;
}

/** No logger: no log record would be exported, whatever OTEL_LOGS_EXPORTER says. */
const APP = appDir({ express: '^5.1.0' });
/** winston's instrumentation would send its records over OTLP. */
const LOGGING_APP = appDir({ express: '^5.1.0', winston: '^3.18.0' });
/** The real pg (ours, linked): the database check runs its query with the app's pg. */
const PG_APP = appDir({ express: '^5.1.0' });
symlinkSync(join(REPO, 'node_modules', 'pg'), join(PG_APP, 'node_modules', 'pg'), 'dir');

/** Nothing reachable by default: each test adds what it checks. */
const QUIET = { OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none' };

function doctor(env: Record<string, string>, args: string[] = ['--json'], cwd = APP): Promise<Run> {
  const started = performance.now();
  const proc = spawn(process.execPath, [join(REPO, 'bin', 'innatural-otel.js'), 'doctor', ...args], {
    env: { ...baseEnv(), ...env },
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  proc.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started })));
}

async function report(env: Record<string, string>, args: string[] = [], cwd = APP): Promise<{ run: Run; r: Report }> {
  const run = await doctor(env, ['--json', ...args], cwd);
  let r: Report;
  try {
    r = JSON.parse(run.stdout) as Report;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  assert.equal(run.code, r.exitCode, 'exit status is the report’s');
  return { run, r };
}

const about = (r: Report, subject: RegExp) => r.findings.filter((f) => subject.test(f.subject));

describe('innatural-otel doctor', () => {
  let otlp: OtlpSink;
  let sentry: SentrySink;

  before(async () => {
    otlp = await startOtlpSink();
    sentry = await startSentrySink();
  });
  after(async () => {
    await otlp?.close();
    await sentry?.close();
  });

  it('all good: exit 0, the configuration, and the instrumentations that would load for the app here', async () => {
    // console: tracing on, so the tracing instrumentations are planned, with nothing to reach
    const { r } = await report({ ...QUIET, OTEL_TRACES_EXPORTER: 'console' });
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    assert.ok(r.instrumentations.load.some((i) => i.name === 'express'));
    assert.ok(!r.instrumentations.load.some((i) => i.name === 'koa'));
    assert.deepEqual(r.instrumentations.notInstalled.find((i) => i.name === 'koa')?.packages, ['koa']);
    assert.ok(r.configuration);
  });

  it('exports an empty batch to a live OTLP endpoint, per signal that would export, and says so', async () => {
    otlp.clear();
    const { r } = await report({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_METRICS_EXPORTER: 'otlp' }, [], LOGGING_APP);
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    assert.ok(r.instrumentations.load.some((i) => i.name === 'winston'));
    assert.deepEqual(about(r, /^otlp/).map((f) => [f.subject, f.level]).sort(), [['otlp logs', 'ok'], ['otlp metrics', 'ok'], ['otlp traces', 'ok']]);
    assert.deepEqual(otlp.requests.map((q) => q.path).sort(), ['/v1/logs', '/v1/metrics', '/v1/traces']);
  });

  it('no logs finding when no logger instrumentation is planned: nothing would send a log record', async () => {
    otlp.clear();
    // On the gRPC port with http/protobuf, a known mistake, and checked it would be an error: neither is reported.
    const { r } = await report({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://127.0.0.1:4317/v1/logs' });
    assert.ok(!r.instrumentations.load.some((i) => ['winston', 'pino', 'bunyan'].includes(i.name)));
    assert.deepEqual(about(r, /^otlp/).map((f) => [f.subject, f.level]), [['otlp traces', 'ok']]);
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    assert.deepEqual(otlp.requests.map((q) => q.path), ['/v1/traces']);
    // Where winston is installed its records would go there: the logs endpoint is checked, and a closed port is an error.
    const closed = `http://127.0.0.1:${await freePort()}/v1/logs`;
    const logging = await report({ OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: closed }, ['--timeout', '1000'], LOGGING_APP);
    assert.match(about(logging.r, /^otlp logs$/)[0]?.message ?? '', /ECONNREFUSED/, JSON.stringify(logging.r.findings));
    assert.equal(logging.r.exitCode, 2);
  });

  it('a closed port is an error naming the refusal (exit 2)', async () => {
    const port = await freePort();
    const { r } = await report({ ...QUIET, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
    assert.equal(r.exitCode, 2);
    assert.match(about(r, /^otlp traces$/)[0]!.message, /ECONNREFUSED/);
  });

  it('a blackholed endpoint is an error after the timeout, not a hang', async () => {
    const hole = await startOtlpSink();
    await hole.setMode('blackhole');
    try {
      const { run, r } = await report({ ...QUIET, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: hole.url }, ['--timeout', '500']);
      assert.equal(r.exitCode, 2);
      assert.equal(about(r, /^otlp traces$/)[0]!.level, 'error');
      assert.ok(run.ms < 8000, `finished in ${Math.round(run.ms)} ms`);
    } finally {
      await hole.close();
    }
  });

  it('checks the real PostgreSQL and Redis, and reports a wrong database as an error', async () => {
    const good = await report({ ...QUIET, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', REDIS_URL: 'redis://127.0.0.1:6379' }, [], PG_APP);
    assert.equal(good.r.exitCode, 0, JSON.stringify(good.r.findings));
    assert.deepEqual(about(good.r, /^(DATABASE_URL|REDIS_URL)/).map((f) => f.level), ['ok', 'ok']);
    const bad = await report({ ...QUIET, DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/no_such_db_doctor', REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, [], PG_APP);
    assert.equal(bad.r.exitCode, 2);
    const [db, redis] = [about(bad.r, /^DATABASE_URL/)[0]!, about(bad.r, /^REDIS_URL/)[0]!];
    assert.equal(db.level, 'error');
    assert.match(db.message, /no_such_db_doctor|does not exist/);
    assert.equal(redis.level, 'error');
  });

  it('checks the Sentry DSN, and a wrong key is refused', async () => {
    const ok = await report({ ...QUIET, SENTRY_DSN: sentry.dsn });
    assert.equal(about(ok.r, /^SENTRY_DSN/)[0]!.level, 'ok', JSON.stringify(ok.r.findings));
    const wrong = await report({ ...QUIET, SENTRY_DSN: sentry.dsn.replace('publickey123', 'wrongkey') });
    assert.equal(wrong.r.exitCode, 2);
    assert.match(about(wrong.r, /^SENTRY_DSN/)[0]!.message, /refused the DSN's key \(401\)/);
  });

  it('--send-test-event sends one Sentry error and one OTLP span, and prints their ids', async () => {
    otlp.clear();
    const { r } = await report({ ...QUIET, OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, SENTRY_DSN: sentry.dsn, OTEL_SERVICE_NAME: 'doctor-test' }, ['--send-test-event']);
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    const eventId = /event id ([0-9a-f]{32})/.exec(about(r, /^sentry test event$/)[0]!.message)?.[1];
    const traceId = /trace id ([0-9a-f]{32})/.exec(about(r, /^otlp test span$/)[0]!.message)?.[1];
    assert.ok(eventId && traceId);
    const event = sentry.events.find((e) => e.event_id === eventId);
    assert.equal(event?.exception?.values?.[0]?.value, 'innatural-otel doctor: test event');
    const span = await otlp.waitFor(() => otlp.spans.find((s) => s.traceId === traceId));
    assert.equal(span.name, 'innatural-otel doctor test span');
    assert.equal(span.resource['service.name'], 'doctor-test');
  });

  it('--send-test-event under the preload (NODE_OPTIONS): its own calls are untraced and carry only their own credentials', async () => {
    otlp.clear();
    sentry.clear();
    const bearer = 'doctor-bearer-canary';
    const { r } = await report(
      {
        ...QUIET,
        NODE_OPTIONS: `--require ${join(REPO, 'register.js')}`,
        // The preload skips the doctor's process by default (see the launcher tests below); here it must run there.
        INNATURAL_SKIP_LAUNCHERS: 'false',
        INNATURAL_HEALTH_PORT: '0',
        INNATURAL_HEALTH_HOST: '127.0.0.1',
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${bearer}`,
        SENTRY_DSN: sentry.dsn,
        OTEL_SERVICE_NAME: 'doctor-preloaded',
      },
      ['--send-test-event'],
    );
    assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    const traceId = /trace id ([0-9a-f]{32})/.exec(about(r, /^otlp test span$/)[0]!.message)?.[1];
    await otlp.waitFor(() => otlp.spans.find((s) => s.traceId === traceId));
    // The preload flushed at exit: a span of doctor's own requests would be at the sink by now.
    const own = otlp.spans.filter((s) => [otlp.port, sentry.port].includes(Number(s.attributes['server.port'])));
    assert.deepEqual(own.map((s) => `${s.name} ${String(s.attributes['url.full'])}`), []);
    assert.ok(sentry.requests.length >= 2, 'the empty envelope and the test event');
    for (const request of sentry.requests) {
      assert.deepEqual(Object.keys(request.headers).filter((h) => /^(traceparent|tracestate|baggage|sentry-trace)$/.test(h)), [], request.url);
      assert.ok(!JSON.stringify(request.headers).includes(bearer), `${request.url} carried the OTLP bearer`);
    }
    assert.ok(otlp.requests.every((q) => q.headers.authorization === `Bearer ${bearer}` && !JSON.stringify(q.headers).includes('publickey123')));
  });

  describe('misconfigurations', () => {
    const rows: Array<{ name: string; env: Record<string, string>; subject: RegExp; level: 'warn' | 'error'; message: RegExp; exit: number }> = [
      {
        name: 'a misspelt variable, with the name it meant',
        env: { OTEL_EXPORTR_OTLP_ENDPOINT: 'http://collector:4318' },
        subject: /^OTEL_EXPORTR_OTLP_ENDPOINT$/,
        level: 'warn',
        message: /did you mean OTEL_EXPORTER_OTLP_ENDPOINT\?/,
        exit: 1,
      },
      {
        name: 'a misspelt variable of ours',
        env: { INNATURAL_HEALTH_PROT: '9464' },
        subject: /^INNATURAL_HEALTH_PROT$/,
        level: 'warn',
        message: /did you mean INNATURAL_HEALTH_PORT\?/,
        exit: 1,
      },
      {
        name: 'an unknown variable with nothing close',
        env: { SENTRY_SOMETHING_ELSE_ENTIRELY: '1' },
        subject: /^SENTRY_SOMETHING_ELSE_ENTIRELY$/,
        level: 'warn',
        message: /has no effect/,
        exit: 1,
      },
      {
        name: 'a malformed value, with the fallback used',
        env: { OTEL_BSP_MAX_QUEUE_SIZE: 'lots' },
        subject: /^OTEL_BSP_MAX_QUEUE_SIZE$/,
        level: 'warn',
        message: /"lots".*using 2048/,
        exit: 1,
      },
      {
        name: 'the gRPC port with an HTTP protocol',
        env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4317' },
        subject: /^otlp traces$/,
        level: 'error',
        message: /OTLP\/gRPC port \(4317\) but the protocol is http\/protobuf/,
        exit: 2,
      },
      {
        name: 'the HTTP port with gRPC',
        env: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' },
        subject: /^otlp traces$/,
        level: 'error',
        message: /OTLP\/HTTP port \(4318\) but the protocol is grpc/,
        exit: 2,
      },
      {
        name: 'the health port equal to the app’s PORT',
        env: { PORT: '9464' },
        subject: /^INNATURAL_HEALTH_PORT$/,
        level: 'error',
        message: /also the app's PORT/,
        exit: 2,
      },
      {
        name: 'the health server on loopback inside Kubernetes',
        env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', INNATURAL_HEALTH_HOST: '127.0.0.1' },
        subject: /^INNATURAL_HEALTH_HOST$/,
        level: 'error',
        message: /inside Kubernetes.*Prometheus cannot reach it/,
        exit: 2,
      },
    ];
    for (const row of rows) {
      it(`${row.name}: ${row.level}, exit ${row.exit}`, async () => {
        const { r } = await report({ ...QUIET, ...row.env });
        const found = about(r, row.subject).filter((f) => row.message.test(f.message));
        assert.equal(found.length, 1, JSON.stringify(r.findings));
        assert.equal(found[0]!.level, row.level);
        assert.equal(r.exitCode, row.exit, JSON.stringify(r.findings));
      });
    }

    it('leaves alone the variables other tools read (sentry-cli)', async () => {
      const { r } = await report({ ...QUIET, SENTRY_AUTH_TOKEN: 'x', SENTRY_ORG: 'acme', SENTRY_PROJECT: 'shop' });
      assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
    });
  });

  it('prints no secret, in text or JSON', async () => {
    const canaries = ['dsnkeycanary1', 'dbpasscanary2', 'hdrcanary3', 'tokencanary4'];
    const env = {
      ...QUIET,
      SENTRY_DSN: `http://${canaries[0]}@127.0.0.1:${await freePort()}/1`,
      DATABASE_URL: `postgres://postgres:${canaries[1]}@127.0.0.1:${await freePort()}/test`,
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
      OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer ${canaries[2]}`,
      INNATURAL_METRICS_TOKEN: canaries[3]!,
    };
    for (const args of [['--json'], []]) {
      const run = await doctor(env, ['--timeout', '1000', ...args]);
      assert.equal(run.code, 2);
      const all = run.stdout + run.stderr;
      assert.deepEqual(canaries.filter((c) => all.includes(c)), [], args.join(' '));
    }
  });

  it('text output ends with the counts and the exit status', async () => {
    const run = await doctor({ ...QUIET, OTEL_EXPORTR_OTLP_ENDPOINT: 'x' }, []);
    assert.equal(run.code, 1);
    assert.match(run.stdout, /^@innatural\/otel doctor$/m);
    assert.match(run.stdout, /! OTEL_EXPORTR_OTLP_ENDPOINT: .*did you mean OTEL_EXPORTER_OTLP_ENDPOINT\?/);
    assert.match(run.stdout, /Result: 0 error\(s\), 1 warning\(s\) — exit status 1/);
  });

  describe('with the preload in NODE_OPTIONS, as in the pod the doctor is run in', () => {
    // `--require @innatural/otel/register` resolves from the working directory, the app's.
    before(() => {
      mkdirSync(join(APP, 'node_modules', '@innatural'), { recursive: true });
      symlinkSync(REPO, join(APP, 'node_modules', '@innatural', 'otel'), 'dir');
    });
    after(() => rmSync(join(APP, 'node_modules', '@innatural'), { recursive: true, force: true }));
    const preloaded = { NODE_OPTIONS: '--require @innatural/otel/register', INNATURAL_HEALTH_HOST: '127.0.0.1' };

    it('the doctor’s own process does not start the preload: no start line, the app’s health port left alone, nothing odd reported', async () => {
      // The app's health server, already up in the pod.
      const app = createServer().listen(0, '127.0.0.1');
      await once(app, 'listening');
      try {
        const port = (app.address() as AddressInfo).port;
        const { run, r } = await report({ ...QUIET, ...preloaded, INNATURAL_HEALTH_PORT: String(port), OTEL_LOG_LEVEL: 'info' });
        assert.equal(r.exitCode, 0, JSON.stringify(r.findings));
        assert.equal(run.stderr, '', 'not a line from the preload: no start line, no EADDRINUSE');
      } finally {
        app.close();
      }
    });

    it('INNATURAL_SKIP_LAUNCHERS=false: a warning that npm, yarn and PM2 then take the health port', async () => {
      const { r } = await report({ ...QUIET, ...preloaded, INNATURAL_HEALTH_PORT: '0', INNATURAL_SKIP_LAUNCHERS: 'false', OTEL_LOG_LEVEL: 'none' });
      const found = about(r, /^INNATURAL_SKIP_LAUNCHERS$/);
      assert.equal(found.length, 1, JSON.stringify(r.findings));
      assert.equal(found[0]!.level, 'warn');
      assert.match(found[0]!.message, /npm, npx, yarn, pnpm, corepack and PM2 start it in their own process too, and take the health port/);
      assert.equal(r.exitCode, 1);
    });
  });

  it('a bad argument prints the usage and exits 2; --help exits 0', async () => {
    const bad = await doctor({}, ['--frobnicate']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown argument --frobnicate[\s\S]*Usage: innatural-otel doctor/);
    const help = await doctor({}, ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stderr, /Exit status: 0 all good, 1 warnings, 2 errors/);
  });
});
