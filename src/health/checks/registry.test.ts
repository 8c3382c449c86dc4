import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthChecks } from './registry';
import type { CheckFn } from './types';

describe('HealthChecks', () => {
  it('prepares every check ahead of its first run, and one failing prepare leaves the others prepared', () => {
    const prepared: string[] = [];
    const checks = new HealthChecks(1000, 500);
    const check = (prepare: () => void): CheckFn =>
      Object.assign(() => Promise.resolve({ status: 'healthy' as const }), { prepare });
    checks.register('a', check(() => { throw new Error('driver broken'); }));
    checks.register('b', check(() => prepared.push('b')));
    checks.register('c', () => Promise.resolve({ status: 'healthy' }));
    checks.prepare();
    assert.deepEqual(prepared, ['b']);
  });

  it('checks once per cache period, however many ask at once', async () => {
    let runs = 0;
    let now = 0;
    const checks = new HealthChecks(1000, 500, () => now);
    checks.register('db', () => {
      runs++;
      return Promise.resolve({ status: 'healthy' });
    });
    await Promise.all([checks.results(), checks.results(), checks.results()]);
    now = 999;
    await checks.results();
    assert.equal(runs, 1);
    now = 1000;
    await checks.results();
    assert.equal(runs, 2);
  });
});
