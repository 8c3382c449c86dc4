import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckOutcome } from '../health/checks/registry';
import { groupHealth, type WorkerStatus } from './group-health';

const healthy = (critical = true): CheckOutcome => ({ critical, result: { status: 'healthy' } });
const unhealthy = (critical = true): CheckOutcome => ({ critical, result: { status: 'unhealthy', message: 'down' } });

const worker = (id: string, checks: WorkerStatus['health'] | null = { shuttingDown: false, checks: [] }, answeredOnce = true): WorkerStatus => ({
  id,
  pid: 1000 + Number(id),
  health: checks ?? undefined,
  answeredOnce,
});

describe('groupHealth: readiness of a cluster', () => {
  it('is ready with the primary’s checks passing and every worker ready', () => {
    const g = groupHealth(new Map([['database', healthy()]]), [worker('1'), worker('2')]);
    assert.equal(g.ready, true);
    assert.equal(g.reason, undefined);
    assert.deepEqual(g.workers.map((w) => w.ready), [true, true]);
  });

  it('stays ready while at least one worker is: one restarting, hung or failing its own check is not an outage', () => {
    const g = groupHealth(new Map(), [
      worker('1', null),
      worker('2', { shuttingDown: true, checks: [] }),
      worker('3', { shuttingDown: false, checks: [['queue', true, { status: 'unhealthy' }]] }),
      worker('4'),
    ]);
    assert.equal(g.ready, true);
    assert.deepEqual(
      g.workers.map((w) => [w.id, w.ready, w.reason]),
      [
        ['1', false, 'not answering'],
        ['2', false, 'shutting down'],
        ['3', false, 'critical check failing: queue'],
        ['4', true, undefined],
      ],
    );
  });

  it('is not ready when no worker is ready, or none runs', () => {
    assert.equal(groupHealth(new Map(), [worker('1', null)]).reason, 'no cluster worker is ready');
    assert.equal(groupHealth(new Map(), []).reason, 'no cluster worker is running');
  });

  it('does not count workers that never answered (forked without the preload): the primary’s checks decide', () => {
    const g = groupHealth(new Map([['database', healthy()]]), [worker('1', null, false), worker('2', null, false)]);
    assert.equal(g.ready, true);
    assert.equal(g.workers[0]!.reason, 'never answered (starting, or without the preload)');
    assert.equal(groupHealth(new Map(), [worker('1', null, false), worker('2', null)]).reason, 'no cluster worker is ready');
  });

  it('is not ready when a critical check of the primary fails, with the same reason a single process gives', () => {
    const g = groupHealth(new Map([['database', unhealthy()], ['redis', unhealthy(false)]]), [worker('1')]);
    assert.equal(g.ready, false);
    assert.equal(g.reason, 'critical check failing: database');
    assert.deepEqual(g.failing, ['database']);
  });

  it('shows each check once, with the worst result any process has for it', () => {
    const g = groupHealth(new Map([['database', healthy()]]), [
      worker('1', { shuttingDown: false, checks: [['queue', false, { status: 'healthy' }]] }),
      worker('2', { shuttingDown: false, checks: [['queue', true, { status: 'degraded', message: 'slow' }]] }),
    ]);
    assert.deepEqual([...g.outcomes.keys()], ['database', 'queue']);
    assert.deepEqual(g.outcomes.get('queue'), { critical: true, result: { status: 'degraded', message: 'slow' } });
  });
});
