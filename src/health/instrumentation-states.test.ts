import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InstrumentationBook, mergeStates, readStates } from './instrumentation-states';

const pg7 = { instrumentation: 'pg', package: 'pg', version: '7.18.2', supported: ['>=8.0.3 <9'] };
const none = { active: [], deferred: [], missing: [], unsupported: [], failed: [] };

describe('InstrumentationBook', () => {
  it('reports each name under its latest state, sorted', () => {
    const book = new InstrumentationBook();
    book.set('redis', 'deferred');
    book.set('express', 'deferred');
    book.set('http', 'active');
    book.set('dataloader', 'missing');
    book.set('express', 'active');
    book.set('koa', 'failed');
    assert.deepEqual(book.report(), { active: ['express', 'http'], deferred: ['redis'], missing: ['dataloader'], unsupported: [], failed: ['koa'] });
  });

  it('an unsupported target moves its instrumentation out of active, with the version and ranges', () => {
    const book = new InstrumentationBook();
    book.set('pg', 'active');
    book.unsupported(pg7);
    book.set('pg', 'active');
    // A later load of the same entry must not hide the finding: the version check runs after it.
    book.unsupported(pg7);
    assert.deepEqual(book.report(), { ...none, unsupported: [pg7] });
  });
});

describe('mergeStates (a cluster)', () => {
  it('takes the state that needs an operator: unsupported > failed > missing > active > deferred', () => {
    const merged = mergeStates([
      { ...none, active: ['express', 'pg'], deferred: ['redis'] },
      { ...none, deferred: ['express'], active: ['redis'], unsupported: [pg7] },
      { ...none, missing: ['koa'], failed: ['pino'], deferred: ['pino'] },
    ]);
    assert.deepEqual(merged, { active: ['express', 'redis'], deferred: [], missing: ['koa'], unsupported: [pg7], failed: ['pino'] });
  });

  it('lists one target once when several workers report it', () => {
    assert.deepEqual(mergeStates([{ ...none, unsupported: [pg7] }, { ...none, unsupported: [{ ...pg7 }] }]).unsupported, [pg7]);
  });
});

describe('readStates (a worker’s reply)', () => {
  it('keeps the well-formed parts and drops the rest', () => {
    assert.deepEqual(readStates({ active: ['http', 3], deferred: 'x', unsupported: [pg7, { instrumentation: 'a' }, null], failed: [] }), {
      ...none,
      active: ['http'],
      unsupported: [pg7],
    });
  });

  it('is undefined for what is not an object (a release that sends none)', () => {
    for (const value of [undefined, null, 'active', 3]) assert.equal(readStates(value), undefined);
  });
});
