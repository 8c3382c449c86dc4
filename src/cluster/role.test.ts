import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { clusterLoaded } from './primary';
import { clusterRole } from './role';

describe('cluster role detection', () => {
  it('a process without an IPC channel is no cluster worker, and loads no cluster module to find out', { skip: typeof process.send === 'function' && 'run with an IPC channel' }, () => {
    assert.deepEqual(clusterRole(), { kind: 'process' });
    assert.equal(clusterLoaded(), false);
  });

  it('sees node:cluster once the app has loaded it (Node’s module list names it as we look for it)', () => {
    require('node:cluster');
    assert.equal(clusterLoaded(), true);
  });
});
