/**
 * Every malformed variable at once, in a real process: the app serves, each variable is
 * named in exactly one warning, and nothing prints a stack trace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MALFORMED_ENV } from '../support/malformed-env';
import { startApp } from '../support/app';

describe('malformed environment', () => {
  it(`starts and serves with ${MALFORMED_ENV.length} malformed variables, one warning each`, async () => {
    assert.ok(MALFORMED_ENV.length >= 15);
    const env = Object.fromEntries(MALFORMED_ENV.map((row) => [row.variable, row.value]));
    const app = await startApp({
      fixture: 'express-app.js',
      // Keep the fixture's own traffic local: a malformed endpoint falls back to localhost:4318.
      env: { ...env, OTEL_NODE_DISABLED_INSTRUMENTATIONS: env.OTEL_NODE_DISABLED_INSTRUMENTATIONS },
    });
    try {
      for (const path of ['/api/users/1', '/api/users/2']) assert.equal((await app.get(path)).status, 200);
      const lines = app.logLines();
      for (const { variable } of MALFORMED_ENV) {
        const named = lines.filter((l) => l.variable === variable);
        assert.equal(named.length, 1, `${variable}: ${JSON.stringify(named)}`);
        assert.equal(named[0]!.level, 'warn');
        assert.match(String(named[0]!.message), new RegExp(`^Invalid ${variable}=.*; using `));
      }
      assert.equal(lines.filter((l) => l.message === '@innatural/otel started').length, 1, 'started despite all of it');
      assert.doesNotMatch(app.stderr(), /\n\s+at .+:\d+:\d+\)?\n/, 'no stack trace');
      // The malformed INNATURAL_HEALTH_PORT falls back to 9464, which another process on this machine may hold.
      const errors = lines.filter((l) => l.level === 'error' && !/^Health server cannot listen/.test(String(l.message)));
      assert.deepEqual(errors, []);
    } finally {
      app.kill();
    }
  });
});
