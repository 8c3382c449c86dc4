import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterAggregate, PRIMARY_WORKER, type Contribution } from './aggregate';
import { serialize } from './prometheus';
import { Registry, type Family, type MetricSpec } from './registry';
import { readSnapshot, snapshotOf } from './snapshot';

const requests: MetricSpec = { name: 'req_total', help: 'r', type: 'counter', labels: ['route'] };
const duration: MetricSpec = { name: 'dur_seconds', help: 'd', type: 'histogram', labels: ['route'], buckets: [0.1, 1] };
const sessions: MetricSpec = { name: 'sessions', help: 's', type: 'gauge', labels: [] };
const rss: MetricSpec = { name: 'rss_bytes', help: 'm', type: 'gauge', labels: [], cluster: 'worker' };
const ready: MetricSpec = { name: 'ready', help: 'r', type: 'gauge', labels: [], cluster: 'primary' };

/** One process's registry with the five families, filled by `fill`. */
function processOf(worker: string, fill: (f: Record<string, Family>) => void): Contribution {
  const registry = new Registry(100);
  const f = {
    requests: registry.family(requests),
    duration: registry.family(duration),
    sessions: registry.family(sessions),
    rss: registry.family(rss),
    ready: registry.family(ready),
  };
  fill(f);
  // Through the wire, as a worker's snapshot arrives.
  return { worker, families: readSnapshot(JSON.parse(JSON.stringify(snapshotOf(registry.families))))! };
}

const find = (families: readonly Family[], name: string) => families.find((f) => f.spec.name === name)!;
const values = (family: Family) => family.all().map((s) => [s.labels.join(','), s.value]);

describe('ClusterAggregate', () => {
  const worker1 = processOf('1', (f) => {
    f.requests!.inc(['/a'], 120);
    f.duration!.observe(['/a'], 0.05);
    f.duration!.observe(['/a'], 5);
    f.sessions!.set([], 3);
    f.rss!.set([], 100);
    f.ready!.set([], 0);
  });
  const worker2 = processOf('2', (f) => {
    f.requests!.inc(['/a'], 80);
    f.requests!.inc(['/b'], 1);
    f.duration!.observe(['/a'], 0.5);
    f.sessions!.set([], 4);
    f.rss!.set([], 200);
    f.ready!.set([], 0);
  });
  const primary = processOf(PRIMARY_WORKER, (f) => {
    f.rss!.set([], 50);
    f.ready!.set([], 1);
  });

  it('sums counters across processes, by label set', () => {
    const merged = new ClusterAggregate(100).merge([primary, worker1, worker2]);
    assert.deepEqual(values(find(merged, 'req_total')), [['/a', 200], ['/b', 1]]);
  });

  it('sums histograms bucket by bucket, so +Inf, count and sum agree', () => {
    const merged = new ClusterAggregate(100).merge([primary, worker1, worker2]);
    const [s] = find(merged, 'dur_seconds').all();
    assert.deepEqual(s!.counts, [1, 1, 1]);
    assert.equal(s!.count, 3);
    assert.equal(s!.sum, 5.55);
    assert.match(serialize(merged), /dur_seconds_bucket\{route="\/a",le="\+Inf"\} 3\ndur_seconds_sum\{route="\/a"\} 5\.55\ndur_seconds_count\{route="\/a"\} 3\n/);
  });

  it('sums gauges by default, as prom-client does', () => {
    const merged = new ClusterAggregate(100).merge([primary, worker1, worker2]);
    assert.deepEqual(values(find(merged, 'sessions')), [['', 7]]);
  });

  it('keeps `worker` gauges per process under a worker label, the primary as "primary"', () => {
    const merged = new ClusterAggregate(100).merge([primary, worker1, worker2]);
    const family = find(merged, 'rss_bytes');
    assert.deepEqual(family.spec.labels, ['worker']);
    assert.deepEqual(values(family), [['primary', 50], ['1', 100], ['2', 200]]);
    assert.match(serialize(merged), /rss_bytes\{worker="1"\} 100\n/);
  });

  it('takes `primary` gauges from the primary alone', () => {
    const merged = new ClusterAggregate(100).merge([primary, worker1, worker2]);
    assert.deepEqual(values(find(merged, 'ready')), [['', 1]]);
  });

  it('keeps what an exited worker counted, so summed counters never go down, and drops its gauges', () => {
    const aggregate = new ClusterAggregate(100);
    const before = aggregate.merge([primary, worker1, worker2]);
    aggregate.retire(worker2.families);
    const after = aggregate.merge([primary, worker1]);
    assert.deepEqual(values(find(after, 'req_total')), values(find(before, 'req_total')));
    assert.equal(find(after, 'dur_seconds').all()[0]!.count, 3);
    assert.deepEqual(values(find(after, 'rss_bytes')), [['primary', 50], ['1', 100]]);
    assert.deepEqual(values(find(after, 'sessions')), [['', 3]]);
  });

  it('leaves out a family a process declares with another shape, and counts it', () => {
    const other = processOf('3', () => {});
    const odd = { worker: '3', families: [{ spec: { ...requests, labels: ['path'] }, series: [{ l: ['/x'], v: 5 }] }, ...other.families.slice(1)] };
    const aggregate = new ClusterAggregate(100);
    const merged = aggregate.merge([primary, worker1, odd]);
    assert.deepEqual(values(find(merged, 'req_total')), [['/a', 120]]);
    assert.equal(aggregate.mismatches, 1);
  });

  it('caps each merged family at the cardinality limit, as every family is', () => {
    const many = (worker: string, from: number) =>
      processOf(worker, (f) => {
        for (let i = from; i < from + 8; i++) f.requests!.inc([`/r${i}`]);
      });
    const merged = new ClusterAggregate(10).merge([many('1', 0), many('2', 100)]);
    assert.equal(find(merged, 'req_total').size, 11);
    assert.equal(find(merged, 'req_total').all().at(-1)!.labels[0], '_overflow');
  });
});

describe('registry snapshots', () => {
  it('carry NaN and ±Infinity through JSON, which would turn them into null', () => {
    const registry = new Registry(10);
    const g = registry.family({ name: 'g', help: 'g', type: 'gauge', labels: ['k'] });
    g.set(['inf'], Infinity);
    g.set(['ninf'], -Infinity);
    g.set(['nan'], NaN);
    const back = readSnapshot(JSON.parse(JSON.stringify(snapshotOf(registry.families))))!;
    const merged = new ClusterAggregate(10).merge([{ worker: '1', families: back }]);
    assert.match(serialize(merged), /g\{k="inf"\} \+Inf\ng\{k="ninf"\} -Inf\ng\{k="nan"\} NaN\n/);
  });

  it('drop what is malformed and keep the rest', () => {
    const read = readSnapshot([
      { spec: requests, series: [{ l: ['/ok'], v: 1 }, { l: ['/a', 'extra'], v: 1 }, { l: ['/s'], v: 'lots' }, null] },
      { spec: { ...duration, buckets: 'x' }, series: [] },
      { spec: duration, series: [{ l: ['/h'], c: [1, 2], s: 1, n: 3 }, { l: ['/h2'], c: [1, 1, 1], s: 1, n: 3 }] },
      'junk',
    ])!;
    assert.deepEqual(
      read.map((f) => [f.spec.name, f.series.map((s) => s.l[0])]),
      [
        ['req_total', ['/ok']],
        ['dur_seconds', ['/h2']],
      ],
    );
    assert.equal(readSnapshot({ not: 'an array' }), undefined);
  });
});
