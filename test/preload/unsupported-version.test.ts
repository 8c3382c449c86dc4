/**
 * A library at a version its instrumentation does not cover is loaded untraced by
 * `@opentelemetry/instrumentation`, with no log at any level. Under the real preload it is one
 * warning at the app's first require: pg 7.18.2 (our `pg-7` dev dependency, an npm alias, laid out
 * as `node_modules/pg` in an app folder inside node_modules, so pg 7's own dependencies still
 * resolve from the repository's tree) against instrumentation-pg's `>=8.0.3 <9`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { baseEnv, FIXTURES, healthUrl, metricsOnlyEnv, REPO, startApp } from '../support/app';

describe('a library outside its instrumentation’s range is named', () => {
  let root: string;
  before(() => {
    const parent = join(REPO, 'node_modules', '.innatural-test-apps');
    mkdirSync(parent, { recursive: true });
    root = mkdtempSync(join(parent, 'pg7-'));
    mkdirSync(join(root, 'node_modules'));
    execFileSync('cp', ['-a', join(REPO, 'node_modules', 'pg-7'), join(root, 'node_modules', 'pg')], { stdio: 'pipe' });
    cpSync(join(FIXTURES, 'pg7-app'), root, { recursive: true });
  });
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const expected = () =>
    `pg 7.18.2 (${join(root, 'node_modules', 'pg')}) is outside what instrumentation pg supports (>=8.0.3 <9), so pg is not traced: ` +
    'move pg to a supported version, install a newer @opentelemetry/instrumentation-pg if one covers it, or add pg to OTEL_NODE_DISABLED_INSTRUMENTATIONS';

  it('pg 7.18.2 under --require: one warning naming the version, its path, the supported range and the fixes; the app runs', async () => {
    const app = await startApp({ fixture: join(root, 'app.js'), preload: 'require', env: metricsOnlyEnv() });
    try {
      assert.deepEqual(await (await app.get('/')).json(), { client: 'function', version: '7.18.2' });
      await app.get('/');
      const warnings = app.logLines().filter((l) => l.level === 'warn' || l.level === 'error');
      assert.deepEqual(
        warnings.map((l) => l.message),
        [expected()],
      );
      // And in /api/health, for whoever looks at an empty panel later.
      const report = (await (await fetch(`${await healthUrl(app)}/api/health`)).json()) as { instrumentations: { unsupported: unknown; active: string[] } };
      assert.deepEqual(report.instrumentations.unsupported, [{ instrumentation: 'pg', package: 'pg', version: '7.18.2', supported: ['>=8.0.3 <9'] }]);
      assert.ok(!report.instrumentations.active.includes('pg'));
    } finally {
      app.kill();
    }
  });

  it('under --import (the ESM hook loads every instrumentation at start): the same one line', async () => {
    const app = await startApp({ fixture: join(root, 'app.js'), preload: 'import', env: metricsOnlyEnv() });
    try {
      assert.equal((await app.get('/')).status, 200);
      assert.deepEqual(
        app.logLines().filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.message),
        [expected()],
      );
    } finally {
      app.kill();
    }
  });

  it('doctor, in the app’s folder, gives the same line as a warning', () => {
    const doctor = spawnSync(process.execPath, [join(REPO, 'bin', 'innatural-otel.js'), 'doctor', '--json', '--timeout', '500'], {
      cwd: root,
      env: { ...baseEnv(), OTEL_TRACES_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'prometheus' },
      encoding: 'utf8',
    });
    const report = JSON.parse(doctor.stdout) as { findings: Array<{ level: string; subject: string; message: string }> };
    assert.deepEqual(
      report.findings.filter((f) => f.subject === 'pg').map((f) => [f.level, f.message]),
      [['warn', expected()]],
    );
  });
});
