import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { instrumentationCompat, minimumOf } from './compat';

describe('minimumOf', () => {
  it('reads the lowest version of the ranges OpenTelemetry packages declare', () => {
    const cases: Array<[string, string | undefined]> = [
      ['>=1.10.0 <1.11.0', '1.10.0'],
      ['^1.10.0', '1.10.0'],
      ['>=1.0.0 <1.10.0', '1.0.0'],
      ['~1.9.0', '1.9.0'],
      ['^1.3.0 || ^2.0.0', '1.3.0'],
      ['*', undefined],
    ];
    for (const [range, expected] of cases) assert.equal(minimumOf(range), expected, range);
  });
});

describe('instrumentationCompat', () => {
  const root = mkdtempSync(join(tmpdir(), 'innatural-compat-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  const pkg = (dir: string, name: string, version: string, peers: Record<string, string> = {}) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js', peerDependencies: peers }));
    writeFileSync(join(dir, 'index.js'), '');
    return join(dir, 'index.js');
  };

  /** An app's node_modules: the instrumentation, its base (hoisted or nested) and an API copy. */
  function layout(name: string, base: string, api: string, nestedBase = false): string {
    const modules = join(root, name, 'node_modules', '@opentelemetry');
    const entry = pkg(join(modules, 'instrumentation-koa'), '@opentelemetry/instrumentation-koa', '0.72.0', { '@opentelemetry/api': '^1.9.0' });
    const baseDir = nestedBase ? join(modules, 'instrumentation-koa', 'node_modules', '@opentelemetry', 'instrumentation') : join(modules, 'instrumentation');
    const apiRange = base.startsWith('0.2') ? '>=1.0.0 <1.10.0' : '>=1.10.0 <1.11.0';
    pkg(baseDir, '@opentelemetry/instrumentation', base, { '@opentelemetry/api': apiRange });
    pkg(join(modules, 'api'), '@opentelemetry/api', api);
    return entry;
  }

  it('says nothing when the base and the API agree, or the API is a newer minor', () => {
    assert.equal(instrumentationCompat('koa', layout('agree', '0.300.0', '1.10.0')), undefined);
    assert.equal(instrumentationCompat('koa', layout('newer', '0.300.0', '1.11.0')), undefined);
  });

  it('an API older than the base needs: one error line naming both versions, the path and the fix', () => {
    const found = instrumentationCompat('koa', layout('old-api', '0.300.0', '1.9.1'));
    assert.equal(found?.level, 'error');
    assert.equal(
      found?.message,
      'Instrumentation koa cannot work here: @opentelemetry/instrumentation-koa 0.72.0 is built on @opentelemetry/instrumentation 0.300.0, ' +
        `which needs @opentelemetry/api >=1.10.0 <1.11.0, but it resolves @opentelemetry/api 1.9.1 (${join(root, 'old-api', 'node_modules', '@opentelemetry', 'api')}), ` +
        'so koa is not traced; fix: npm install @opentelemetry/api@^1.10.0 (one copy for the app and every instrumentation), or add koa to OTEL_NODE_DISABLED_INSTRUMENTATIONS',
    );
  });

  it('a package of the 2.x line (its own nested base 0.2xx) beside API 1.10: a warning that names the upgrade (it works: its range says < 1.10)', () => {
    const found = instrumentationCompat('koa', layout('previous', '0.223.0', '1.10.0', true));
    assert.equal(found?.level, 'warn');
    assert.match(found!.message, /^Instrumentation koa: @opentelemetry\/instrumentation-koa 0\.72\.0 is built on @opentelemetry\/instrumentation 0\.223\.0, of OpenTelemetry JS's 2\.x line/);
    assert.match(found!.message, /fix: npm install @opentelemetry\/instrumentation-koa@latest$/);
  });
});
