import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from './registry';
import { CONTENT_TYPE, formatValue, serialize } from './prometheus';
import { registerCatalog } from './families';

describe('serialize', () => {
  it('writes a labelled counter', () => {
    const r = new Registry(100);
    const f = r.family({ name: 'req_total', help: 'Requests', type: 'counter', labels: ['method', 'code'] });
    f.inc(['GET', '200'], 3);
    f.inc(['POST', '500']);
    assert.equal(
      serialize(r.families),
      '# HELP req_total Requests\n' +
        '# TYPE req_total counter\n' +
        'req_total{method="GET",code="200"} 3\n' +
        'req_total{method="POST",code="500"} 1\n',
    );
  });

  it('writes a label-less gauge as 0 before anything is recorded, then its value', () => {
    const r = new Registry(100);
    const f = r.family({ name: 'sessions', help: 'Active sessions', type: 'gauge', labels: [] });
    assert.equal(serialize(r.families), '# HELP sessions Active sessions\n# TYPE sessions gauge\nsessions 0\n');
    f.set([], 4.5);
    assert.equal(serialize(r.families), '# HELP sessions Active sessions\n# TYPE sessions gauge\nsessions 4.5\n');
  });

  it('writes only HELP and TYPE for a labelled family with no series', () => {
    const r = new Registry(100);
    r.family({ name: 'errs_total', help: 'Errors', type: 'counter', labels: ['type'] });
    r.family({ name: 'lat_seconds', help: 'Latency', type: 'histogram', labels: ['op'], buckets: [1] });
    assert.equal(
      serialize(r.families),
      '# HELP errs_total Errors\n# TYPE errs_total counter\n# HELP lat_seconds Latency\n# TYPE lat_seconds histogram\n',
    );
  });

  it('writes a histogram with cumulative buckets, +Inf, _sum and _count', () => {
    const r = new Registry(100);
    const f = r.family({ name: 'd_seconds', help: 'Duration', type: 'histogram', labels: ['op'], buckets: [0.1, 0.5, 1] });
    f.observe(['q'], 0.1); // le=0.1
    f.observe(['q'], 0.3); // le=0.5
    f.observe(['q'], 0.5); // le=0.5
    f.observe(['q'], 3); // +Inf
    assert.equal(
      serialize(r.families),
      '# HELP d_seconds Duration\n' +
        '# TYPE d_seconds histogram\n' +
        'd_seconds_bucket{op="q",le="0.1"} 1\n' +
        'd_seconds_bucket{op="q",le="0.5"} 3\n' +
        'd_seconds_bucket{op="q",le="1"} 3\n' +
        'd_seconds_bucket{op="q",le="+Inf"} 4\n' +
        'd_seconds_sum{op="q"} 3.9\n' +
        'd_seconds_count{op="q"} 4\n',
    );
  });

  it('writes a label-less histogram with nothing recorded as zeros', () => {
    const r = new Registry(100);
    r.family({ name: 'h', help: 'H', type: 'histogram', labels: [], buckets: [0.005, 2] });
    assert.equal(
      serialize(r.families),
      '# HELP h H\n# TYPE h histogram\n' +
        'h_bucket{le="0.005"} 0\n' +
        'h_bucket{le="2"} 0\n' +
        'h_bucket{le="+Inf"} 0\n' +
        'h_sum 0\n' +
        'h_count 0\n',
    );
  });

  it('escapes backslash, double quote and newline in label values', () => {
    const r = new Registry(100);
    const f = r.family({ name: 'x_total', help: 'X', type: 'counter', labels: ['v'] });
    f.inc(['a\\b"c\nd']);
    f.inc(['plain']);
    assert.equal(
      serialize(r.families),
      '# HELP x_total X\n# TYPE x_total counter\n' + 'x_total{v="a\\\\b\\"c\\nd"} 1\n' + 'x_total{v="plain"} 1\n',
    );
  });

  it('escapes backslash and newline in HELP (double quotes stay)', () => {
    const r = new Registry(100);
    r.family({ name: 'y', help: 'a\\b\nc "q"', type: 'gauge', labels: [] });
    assert.equal(serialize(r.families), '# HELP y a\\\\b\\nc "q"\n# TYPE y gauge\ny 0\n');
  });

  it('formats +Inf, -Inf and NaN values', () => {
    const r = new Registry(100);
    const f = r.family({ name: 'z', help: 'Z', type: 'gauge', labels: ['k'] });
    f.set(['pinf'], Infinity);
    f.set(['ninf'], -Infinity);
    f.set(['nan'], NaN);
    assert.equal(
      serialize(r.families),
      '# HELP z Z\n# TYPE z gauge\nz{k="pinf"} +Inf\nz{k="ninf"} -Inf\nz{k="nan"} NaN\n',
    );
  });

  it('writes overflow series like any other', () => {
    const r = new Registry(1);
    const f = r.family({ name: 'o_total', help: 'O', type: 'counter', labels: ['a', 'b'] });
    f.inc(['1', '2']);
    f.inc(['3', '4']);
    assert.equal(
      serialize(r.families),
      '# HELP o_total O\n# TYPE o_total counter\no_total{a="1",b="2"} 1\no_total{a="_overflow",b="_overflow"} 1\n',
    );
  });

  it('declares every catalog family on a fresh registry', () => {
    const r = new Registry(100);
    registerCatalog(r, 'innatural_chatbot');
    const text = serialize(r.families);
    assert.match(text, /^# TYPE innatural_chatbot_http_requests_total counter$/m);
    assert.match(text, /^# TYPE innatural_chatbot_http_request_duration_seconds histogram$/m);
    assert.match(text, /^innatural_chatbot_active_sessions 0$/m);
    assert.equal(text.match(/^# TYPE /gm)?.length, r.families.length);
  });
});

describe('formatValue', () => {
  it('formats special values as Prometheus does', () => {
    assert.equal(formatValue(Infinity), '+Inf');
    assert.equal(formatValue(-Infinity), '-Inf');
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(0), '0');
    assert.equal(formatValue(-2.5), '-2.5');
    assert.equal(formatValue(0.001), '0.001');
  });
});

describe('CONTENT_TYPE', () => {
  it('is the 0.0.4 text format', () => {
    assert.equal(CONTENT_TYPE, 'text/plain; version=0.0.4; charset=utf-8');
  });
});
