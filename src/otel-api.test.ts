import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accepts, planApi, type ApiCopy } from './otel-api';

const copy = (version: string, ...users: string[]): ApiCopy => ({
  version,
  entry: `/x/${version}/index.js`,
  dir: `/x/${version}`,
  users: users.length > 0 ? users : ['the app'],
});

describe('accepts (the API’s own compatibility rule)', () => {
  const table: Array<[own: string, registered: string, ok: boolean]> = [
    ['1.9.1', '1.9.1', true],
    ['1.9.1', '1.10.0', true],
    ['1.3.0', '1.10.0', true],
    ['1.10.0', '1.9.1', false],
    ['1.9.1', '2.0.0', false],
    ['2.0.0', '1.10.0', false],
    ['1.10.0-rc.1', '1.10.0', false],
    ['1.10.0', '1.10.0-rc.1', false],
    ['1.10.0-rc.1', '1.10.0-rc.1', true],
    ['0.5.1', '0.5.2', true],
    ['0.5.1', '0.6.0', false],
    ['garbage', '1.9.1', false],
  ];
  for (const [own, registered, ok] of table) {
    it(`${own} ${ok ? 'uses' : 'ignores'} globals registered by ${registered}`, () => assert.equal(accepts(own, registered), ok));
  }
});

describe('planApi', () => {
  it('registers with the newest copy of our major: the app’s 1.10 over our 1.9.1, and nothing conflicts', () => {
    const ours = copy('1.9.1', '@innatural/otel', 'the instrumentations');
    const app = copy('1.10.0');
    const plan = planApi([ours, app]);
    assert.equal(plan.registrar, app);
    assert.deepEqual(plan.conflicts, []);
  });

  it('keeps our copy when the app’s is older, which still reads ours', () => {
    const ours = copy('1.9.1', '@innatural/otel');
    const plan = planApi([ours, copy('1.4.0')]);
    assert.equal(plan.registrar, ours);
    assert.deepEqual(plan.conflicts, []);
  });

  it('names both versions and the fix for a copy of another major, and still registers with ours', () => {
    const ours = copy('1.9.1', '@innatural/otel');
    const plan = planApi([ours, copy('2.0.0')]);
    assert.equal(plan.registrar, ours);
    assert.equal(plan.conflicts.length, 1);
    assert.equal(
      plan.conflicts[0]!.message,
      "The app's @opentelemetry/api 2.0.0 (/x/2.0.0) cannot use the OpenTelemetry globals, which @innatural/otel registers with " +
        '@opentelemetry/api 1.9.1: spans, metrics and context made through it are dropped; fix: npm install @opentelemetry/api@^1.9.0 (the major the SDK uses)',
    );
  });

  it('never picks a prerelease, which shares globals only with its very own version', () => {
    const ours = copy('1.9.1', '@innatural/otel');
    const plan = planApi([ours, copy('1.11.0-dev.0')]);
    assert.equal(plan.registrar, ours);
    assert.match(plan.conflicts[0]!.message, /1\.11\.0-dev\.0 .*fix: npm install @opentelemetry\/api@\^1\.9\.0 \(a released version\)/);
  });

  it('with a registry someone created first, registers with the copy of its exact version', () => {
    const ours = copy('1.9.1', '@innatural/otel');
    const app = copy('1.10.0');
    assert.equal(planApi([ours, app], '1.9.1').registrar, ours);
    const plan = planApi([ours], '1.10.0');
    assert.equal(plan.registrar, undefined);
    assert.match(plan.conflicts[0]!.message, /^@opentelemetry\/api 1\.10\.0 registered the OpenTelemetry globals before @innatural\/otel started/);
  });
});
