import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packageOf } from './lazy';

describe('packageOf', () => {
  it('reduces a require id to its package', () => {
    assert.equal(packageOf('mysql2/promise'), 'mysql2');
    assert.equal(packageOf('pg'), 'pg');
    assert.equal(packageOf('@redis/client/dist/lib/client'), '@redis/client');
    assert.equal(packageOf('@redis/client'), '@redis/client');
    assert.equal(packageOf('./local'), '');
    assert.equal(packageOf('/abs/path.js'), '');
    assert.equal(packageOf('node:http'), '');
  });
});
