/**
 * /api/health and /api/metrics/summary say which instrumentations trace: active (loaded),
 * deferred (installed, loads on the app's first require), missing (target installed, the
 * instrumentation not: test/packaging/) and unsupported (a version outside its ranges:
 * test/preload/unsupported-version.test.ts).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, healthUrl, REPO, sinkEnv, startApp } from '../support/app';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';

describe('instrumentation states in /api/health and /api/metrics/summary', () => {
  let root: string;
  let sink: OtlpSink;
  before(async () => {
    sink = await startOtlpSink();
    // Outside the repository: express and pg are links into its tree (their own dependencies
    // resolve from there). Every instrumentation package is installed here, so "missing" is the
    // packaging test's (koa in a blank app).
    root = mkdtempSync(join(tmpdir(), 'innatural-states-'));
    cpSync(join(FIXTURES, 'states-app'), root, { recursive: true });
    mkdirSync(join(root, 'node_modules'));
    for (const pkg of ['express', 'pg']) symlinkSync(join(REPO, 'node_modules', pkg), join(root, 'node_modules', pkg), 'dir');
  });
  after(async () => {
    if (root) rmSync(root, { recursive: true, force: true });
    await sink?.close();
  });

  it('express turns active at its first require, pg (installed, never required) stays deferred', async () => {
    const app = await startApp({
      fixture: join(root, 'app.js'),
      env: sinkEnv(sink, { OTEL_SERVICE_NAME: 'states', OTEL_METRICS_EXPORTER: 'prometheus', OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express,pg' }),
    });
    try {
      assert.equal((await app.get('/users/7')).status, 200);
      const health = await healthUrl(app);
      const expected = { active: ['express', 'http'], deferred: ['pg'], missing: [], unsupported: [], failed: [] };
      const report = (await (await fetch(`${health}/api/health`)).json()) as { instrumentations: unknown };
      assert.deepEqual(report.instrumentations, expected);
      const summary = (await (await fetch(`${health}/api/metrics/summary`)).json()) as { success: boolean; instrumentations: unknown };
      assert.equal(summary.success, true);
      assert.deepEqual(summary.instrumentations, expected);
    } finally {
      app.kill();
    }
  });
});
