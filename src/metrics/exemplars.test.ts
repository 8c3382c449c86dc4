import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, type MetricSpec } from './registry';
import { serialize } from './prometheus';
import { ClusterAggregate } from './aggregate';
import { readSnapshot, snapshotOf } from './snapshot';

const T1 = '0af7651916cd43dd8448eb211c80319c';
const S1 = 'b7ad6b7169203331';
const T2 = '4bf92f3577b34da6a3ce929d0e0e4736';
const S2 = '00f067aa0ba902b7';
const SAMPLED = 1;
const LAT: MetricSpec = { name: 'lat_seconds', help: 'Latency', type: 'histogram', labels: ['route'], buckets: [0.1, 1], exemplars: true };
const REQ: MetricSpec = { name: 'req_total', help: 'Requests', type: 'counter', labels: ['route'], exemplars: true };

describe('exemplars in the registry', () => {
  it('keeps the latest sampled recording per histogram bucket, and none for an unsampled one', () => {
    const f = new Registry(10).family(LAT);
    f.observe(['/a'], 0.05, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    f.observe(['/a'], 0.07, { traceId: T2, spanId: S2, traceFlags: 0 });
    f.observe(['/a'], 5, { traceId: T2, spanId: S2, traceFlags: SAMPLED });
    const [s] = f.all();
    assert.equal(s!.exemplars!.length, 3);
    assert.deepEqual([s!.exemplars![0]!.traceId, s!.exemplars![0]!.value], [T1, 0.05]);
    assert.equal(s!.exemplars![1], undefined);
    assert.deepEqual([s!.exemplars![2]!.spanId, s!.exemplars![2]!.value], [S2, 5]);
  });

  it('keeps none when the spec does not ask, when they are off, or for ids not of the W3C shape', () => {
    const plain = new Registry(10).family({ ...LAT, exemplars: undefined });
    plain.observe(['/a'], 0.05, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    assert.equal(plain.all()[0]!.exemplars, undefined);
    const off = new Registry(10, false).family(LAT);
    off.observe(['/a'], 0.05, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    assert.equal(off.all()[0]!.exemplars, undefined);
    const odd = new Registry(10).family(REQ);
    odd.inc(['/a'], 1, { traceId: 'x"} 1\nevil 1', spanId: S1, traceFlags: SAMPLED });
    assert.equal(odd.all()[0]!.exemplars, undefined);
  });

  it('holds at most one exemplar per bucket under the cardinality cap, whatever the traffic', () => {
    const f = new Registry(5).family(LAT);
    for (let i = 0; i < 1000; i++) f.observe([`/r${i}`], (i % 30) / 10, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    const series = f.all();
    assert.equal(series.length, 6); // 5 plus the overflow series
    for (const s of series) assert.ok(s.exemplars!.length <= LAT.buckets!.length + 1);
  });
});

describe('OpenMetrics exposition', () => {
  it('writes counters as prom-client does, exemplars on samples, and # EOF', () => {
    const r = new Registry(10);
    const req = r.family(REQ);
    const lat = r.family(LAT);
    r.family({ name: 'hits', help: 'A counter without the "suffix"', type: 'counter', labels: [] }).inc([], 2);
    req.inc(['/a'], 1, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    lat.observe(['/a'], 0.5, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    const text = serialize(r.families, 'openmetrics');
    const lines = text.split('\n');
    assert.deepEqual(lines.slice(0, 3), ['# HELP req Requests', '# TYPE req counter', `req_total{route="/a"} 1 # {trace_id="${T1}",span_id="${S1}"} 1 ${(req.all()[0]!.exemplars![0]!.timeMs / 1000).toFixed(3)}`]);
    assert.ok(lines.includes('lat_seconds_bucket{route="/a",le="0.1"} 0'));
    assert.ok(lines.some((l) => l.startsWith(`lat_seconds_bucket{route="/a",le="1"} 1 # {trace_id="${T1}",span_id="${S1}"} 0.5 `)));
    assert.ok(lines.includes('lat_seconds_bucket{route="/a",le="+Inf"} 1'));
    assert.ok(lines.includes('# HELP hits A counter without the \\"suffix\\"'));
    assert.ok(lines.includes('hits_total 2'));
    assert.ok(text.endsWith('\n# EOF\n'));
  });

  it('leaves the 0.0.4 text exactly as it was, with no exemplar syntax', () => {
    const r = new Registry(10);
    const req = r.family(REQ);
    req.inc(['/a'], 1, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    assert.equal(serialize(r.families), '# HELP req_total Requests\n# TYPE req_total counter\nreq_total{route="/a"} 1\n');
    assert.equal(serialize(r.families, 'text'), serialize(r.families));
    assert.doesNotMatch(serialize(r.families), /#\s*\{|EOF/);
  });
});

describe('exemplars across a cluster', () => {
  it('travel in the snapshot and the newest per bucket wins in the merge', async () => {
    const a = new Registry(10);
    const b = new Registry(10);
    a.family(LAT).observe(['/a'], 0.05, { traceId: T1, spanId: S1, traceFlags: SAMPLED });
    await new Promise((r) => setTimeout(r, 5));
    b.family(LAT).observe(['/a'], 0.06, { traceId: T2, spanId: S2, traceFlags: SAMPLED });
    const wire = (r: Registry) => readSnapshot(JSON.parse(JSON.stringify(snapshotOf(r.families))))!;
    const merged = new ClusterAggregate(10).merge([
      { worker: 'primary', families: wire(a) },
      { worker: '1', families: wire(b) },
    ]);
    const s = merged[0]!.all()[0]!;
    assert.equal(s.count, 2);
    assert.equal(s.exemplars![0]!.traceId, T2);
  });

  it('drops a worker exemplar whose ids are not hex of the W3C length', () => {
    const raw = [{ spec: LAT, series: [{ l: ['/a'], c: [1, 0, 0], s: 0.05, n: 1, e: [['"}evil', S1, 0.05, 1], null, null] }] }];
    const read = readSnapshot(raw)!;
    assert.deepEqual(read[0]!.series[0]!.e, [null, null, null]);
  });
});
