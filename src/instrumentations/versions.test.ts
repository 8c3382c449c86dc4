import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { satisfies, unsupportedVersion } from './versions';

describe('satisfies', () => {
  it('reads the ranges instrumentations declare', () => {
    const cases: Array<[string, string, boolean | undefined]> = [
      ['8.23.1', '>=8.0.3 <9', true],
      ['7.18.2', '>=8.0.3 <9', false],
      ['9.0.0', '>=8.0.3 <9', false],
      ['7.60.0', '>=4.19.0 <7', false],
      ['6.49.0', '>=4.19.0 <7', true],
      ['5.3.0', '^5.0.0', true],
      ['6.0.0', '^5.0.0', false],
      ['0.3.1', '^0.3.0', true],
      ['0.4.0', '^0.3.0', false],
      ['3.19.0', '3.x', true],
      ['4.0.0', '3.x', false],
      ['1.2.3', '*', true],
      ['2.0.0', '>=1.4.2 <2 || >=2.0.0 <4', true],
      ['10.4.0', '>=5.14.0 <11', true],
      ['11.0.0', '>=5.14.0 <11', false],
      ['1.2.3', '~1.2.0', true],
      ['1.3.0', '~1.2.0', false],
      ['4.0.0', '<=3', false],
      ['3.9.9', '<=3', true],
      ['1.0.0', '1.0.0 - 2.0.0', undefined],
    ];
    for (const [version, range, expected] of cases) assert.equal(satisfies(version, range), expected, `${version} ${range}`);
  });
});

describe('unsupportedVersion', () => {
  const installed = { version: '7.18.2', dir: '/srv/app/node_modules/pg' };
  it('one line naming the version, the path, the ranges and the fixes', () => {
    assert.equal(
      unsupportedVersion('pg', '@opentelemetry/instrumentation-pg', 'pg', installed, ['>=8.0.3 <9']),
      'pg 7.18.2 (/srv/app/node_modules/pg) is outside what instrumentation pg supports (>=8.0.3 <9), so pg is not traced: ' +
        'move pg to a supported version, install a newer @opentelemetry/instrumentation-pg if one covers it, or add pg to OTEL_NODE_DISABLED_INSTRUMENTATIONS',
    );
  });
  it('nothing when a range accepts it, when no definition names the package, or when a range cannot be read', () => {
    assert.equal(unsupportedVersion('pg', 'x', 'pg', installed, ['>=7 <9']), undefined);
    assert.equal(unsupportedVersion('pg', 'x', 'pg', installed, []), undefined);
    assert.equal(unsupportedVersion('pg', 'x', 'pg', installed, ['>=8.0.3 <9', '7.0.0 - 8.0.0']), undefined);
  });
});
