import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OVERFLOW, Registry, type Family, type MetricSpec, type Series } from './registry';

const counterSpec: MetricSpec = { name: 'c_total', help: 'c', type: 'counter', labels: ['a', 'b'] };
const gaugeSpec: MetricSpec = { name: 'g', help: 'g', type: 'gauge', labels: ['state'] };
const histSpec: MetricSpec = { name: 'h_seconds', help: 'h', type: 'histogram', labels: ['op'], buckets: [0.1, 0.5, 1] };

function byLabels(family: Family, labels: string[]): Series | undefined {
  return family.all().find((s) => s.labels.length === labels.length && s.labels.every((l, i) => l === labels[i]));
}

function valueOf(family: Family, labels: string[]): number | undefined {
  return byLabels(family, labels)?.value;
}

describe('Family: counters', () => {
  it('increments by 1 by default and by the given amount', () => {
    const f = new Registry(100).family(counterSpec);
    f.inc(['x', 'y']);
    f.inc(['x', 'y']);
    f.inc(['x', 'y'], 2.5);
    f.inc(['x', 'z'], 7);
    assert.equal(f.size, 2);
    assert.equal(valueOf(f, ['x', 'y']), 4.5);
    assert.equal(valueOf(f, ['x', 'z']), 7);
  });

  it('keeps label order and copies the label array', () => {
    const f = new Registry(100).family(counterSpec);
    const labels = ['p', 'q'];
    f.inc(labels);
    labels[0] = 'mutated';
    assert.deepEqual(f.all()[0]!.labels, ['p', 'q']);
  });

  it('distinguishes label sets that differ only in position', () => {
    const f = new Registry(100).family(counterSpec);
    f.inc(['a', 'b']);
    f.inc(['b', 'a']);
    f.inc(['ab', '']);
    assert.equal(f.size, 3);
  });

  it('a label-less counter has one series', () => {
    const f = new Registry(100).family({ name: 'n_total', help: 'n', type: 'counter', labels: [] });
    f.inc([]);
    f.inc([], 4);
    assert.equal(f.size, 1);
    assert.equal(f.all()[0]!.value, 5);
    assert.deepEqual(f.all()[0]!.labels, []);
  });

  it('records a start time', () => {
    const before = Date.now();
    const f = new Registry(100).family(counterSpec);
    f.inc(['a', 'b']);
    const after = Date.now();
    const s = f.all()[0]!;
    assert.ok(s.startTimeMs >= before && s.startTimeMs <= after);
  });
});

describe('Family: gauges', () => {
  it('set replaces, inc adds, values may go down and to negative', () => {
    const f = new Registry(100).family(gaugeSpec);
    f.set(['idle'], 5);
    f.set(['idle'], 3);
    f.set(['used'], 2);
    f.inc(['used'], -4);
    assert.equal(valueOf(f, ['idle']), 3);
    assert.equal(valueOf(f, ['used']), -2);
  });
});

describe('Family: histograms', () => {
  it('places a value equal to a bound in that bucket (le semantics)', () => {
    const f = new Registry(100).family(histSpec);
    f.observe(['q'], 0.1);
    f.observe(['q'], 0.5);
    f.observe(['q'], 1);
    const s = f.all()[0]!;
    assert.deepEqual(s.counts, [1, 1, 1, 0]);
    assert.equal(s.count, 3);
    assert.equal(s.sum, 1.6);
  });

  it('places values between bounds in the next bucket up, and above the last bound in +Inf', () => {
    const f = new Registry(100).family(histSpec);
    f.observe(['q'], 0);
    f.observe(['q'], 0.05);
    f.observe(['q'], 0.10000001);
    f.observe(['q'], 0.7);
    f.observe(['q'], 1.0000001);
    f.observe(['q'], 1e9);
    f.observe(['q'], -1);
    const s = f.all()[0]!;
    assert.deepEqual(s.counts, [3, 1, 1, 2]);
    assert.equal(s.count, 7);
  });

  it('has one count per bucket plus +Inf, all zero initially, per series', () => {
    const f = new Registry(100).family(histSpec);
    f.observe(['a'], 0.2);
    f.observe(['b'], 2);
    assert.deepEqual(byLabels(f, ['a'])?.counts, [0, 1, 0, 0]);
    assert.deepEqual(byLabels(f, ['b'])?.counts, [0, 0, 0, 1]);
    assert.equal(byLabels(f, ['b'])?.sum, 2);
  });

  it('counter and gauge series carry no bucket counts', () => {
    const r = new Registry(100);
    const c = r.family(counterSpec);
    c.inc(['a', 'b']);
    assert.equal(c.all()[0]!.counts, undefined);
  });
});

describe('Family: cardinality cap', () => {
  it('sends the 4th and later distinct label sets to one overflow series when the limit is 3', () => {
    const f = new Registry(3).family(counterSpec);
    f.inc(['1', 'x']);
    f.inc(['2', 'x']);
    f.inc(['3', 'x']);
    assert.equal(f.size, 3);
    f.inc(['4', 'x']);
    assert.equal(f.size, 4);
    f.inc(['5', 'x'], 2);
    f.inc(['6', 'y'], 3);
    assert.equal(f.size, 4, 'still one overflow series');
    const overflow = f.all().filter((s) => s.labels.every((l) => l === OVERFLOW));
    assert.equal(overflow.length, 1);
    assert.deepEqual(overflow[0]!.labels, [OVERFLOW, OVERFLOW]);
    assert.equal(overflow[0]!.value, 6);
    assert.equal(OVERFLOW, '_overflow');
  });

  it('existing series still update after the cap is reached', () => {
    const f = new Registry(3).family(counterSpec);
    for (const k of ['1', '2', '3', '4', '5']) f.inc([k, 'x']);
    f.inc(['1', 'x'], 10);
    f.inc(['3', 'x'], 10);
    assert.equal(valueOf(f, ['1', 'x']), 11);
    assert.equal(valueOf(f, ['3', 'x']), 11);
    assert.equal(valueOf(f, [OVERFLOW, OVERFLOW]), 2);
    assert.equal(byLabels(f, ['4', 'x']), undefined);
    assert.equal(byLabels(f, ['5', 'x']), undefined);
  });

  it('the overflow series is the last one listed', () => {
    const f = new Registry(1).family(gaugeSpec);
    f.set(['b'], 1);
    f.set(['a'], 2);
    assert.deepEqual(
      f.all().map((s) => s.labels),
      [['b'], [OVERFLOW]],
    );
  });

  it('histogram overflow keeps buckets', () => {
    const f = new Registry(1).family(histSpec);
    f.observe(['a'], 0.05);
    f.observe(['b'], 0.3);
    f.observe(['c'], 5);
    const overflow = byLabels(f, [OVERFLOW])!;
    assert.deepEqual(overflow.counts, [0, 1, 0, 1]);
    assert.equal(overflow.count, 2);
    assert.equal(overflow.sum, 5.3);
  });

  it('each family has its own cap', () => {
    const r = new Registry(2);
    const a = r.family(gaugeSpec);
    const b = r.family({ ...gaugeSpec, name: 'g2' });
    a.set(['1'], 1);
    a.set(['2'], 1);
    a.set(['3'], 1);
    b.set(['1'], 1);
    b.set(['2'], 1);
    assert.equal(a.size, 3);
    assert.equal(b.size, 2);
    assert.equal(byLabels(b, [OVERFLOW]), undefined);
  });
});

describe('Family.clear', () => {
  it('drops every series, including overflow, and frees the cap', () => {
    const f = new Registry(2).family(gaugeSpec);
    f.set(['a'], 1);
    f.set(['b'], 1);
    f.set(['c'], 1);
    assert.equal(f.size, 3);
    f.clear();
    assert.equal(f.size, 0);
    assert.deepEqual(f.all(), []);
    f.set(['c'], 9);
    assert.deepEqual(
      f.all().map((s) => [s.labels, s.value]),
      [[['c'], 9]],
    );
  });
});

describe('Registry', () => {
  it('lists families in registration order', async () => {
    const r = new Registry(10);
    const a = r.family(counterSpec);
    const b = r.family(gaugeSpec);
    assert.deepEqual(await r.collect(), [a, b]);
    assert.equal(r.cardinalityLimit, 10);
  });

  it('runs every collector (sync and async) before collect resolves', async () => {
    const r = new Registry(10);
    const g = r.family(gaugeSpec);
    let n = 0;
    r.onCollect(() => {
      n++;
      g.set(['sync'], n);
    });
    r.onCollect(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      g.set(['async'], 42);
    });
    await r.collect();
    assert.equal(valueOf(g, ['sync']), 1);
    assert.equal(valueOf(g, ['async']), 42);
    await r.collect();
    assert.equal(valueOf(g, ['sync']), 2);
  });

  it('a throwing or rejecting collector does not break collect', async () => {
    const r = new Registry(10);
    const g = r.family(gaugeSpec);
    r.onCollect(() => {
      throw new Error('sync boom');
    });
    r.onCollect(async () => {
      throw new Error('async boom');
    });
    r.onCollect(() => Promise.reject(new Error('rejected')));
    r.onCollect(() => g.set(['ok'], 1));
    const families = await r.collect();
    assert.deepEqual(families, [g]);
    assert.equal(valueOf(g, ['ok']), 1);
  });
});

describe('Family keys', () => {
  it('keeps label sets apart even when a value holds the key separator', () => {
    const family = new Registry(10).family({ name: 'k_total', help: 'k', type: 'counter', labels: ['a', 'b'] });
    family.inc(['x\u0001y', 'z']);
    family.inc(['x', 'y\u0001z']);
    assert.equal(family.size, 2);
  });
});
