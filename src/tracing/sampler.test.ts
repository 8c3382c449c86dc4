import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, TraceFlags, trace, createTraceState, type Attributes } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SamplingDecision,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';
import { feedsMetrics } from '../metrics/spans';
import { createSampler, RecordForMetrics } from './sampler';

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const DB: Attributes = { 'db.system.name': 'postgresql' };

function decide(sampler: Sampler, kind: SpanKind, attributes: Attributes, context = ROOT_CONTEXT): SamplingResult {
  return sampler.shouldSample(context, TRACE_ID, 'span', kind, attributes, []);
}

class Fixed implements Sampler {
  calls = 0;
  constructor(private readonly result: SamplingResult) {}
  shouldSample(): SamplingResult {
    this.calls++;
    return this.result;
  }
  toString(): string {
    return 'Fixed';
  }
}

describe('RecordForMetrics', () => {
  it('upgrades NOT_RECORD to RECORD for a CLIENT span with db.system.name', () => {
    const s = new RecordForMetrics(new AlwaysOffSampler(), feedsMetrics);
    assert.equal(decide(s, SpanKind.CLIENT, DB).decision, SamplingDecision.RECORD);
  });

  it('upgrades for redis and gen_ai client spans too', () => {
    const s = new RecordForMetrics(new AlwaysOffSampler(), feedsMetrics);
    assert.equal(decide(s, SpanKind.CLIENT, { 'db.system': 'redis' }).decision, SamplingDecision.RECORD);
    assert.equal(decide(s, SpanKind.CLIENT, { 'gen_ai.operation.name': 'chat' }).decision, SamplingDecision.RECORD);
  });

  it('leaves NOT_RECORD for spans that feed no metric', () => {
    const s = new RecordForMetrics(new AlwaysOffSampler(), feedsMetrics);
    assert.equal(decide(s, SpanKind.SERVER, { 'http.request.method': 'GET' }).decision, SamplingDecision.NOT_RECORD);
    assert.equal(decide(s, SpanKind.SERVER, DB).decision, SamplingDecision.NOT_RECORD);
    assert.equal(decide(s, SpanKind.INTERNAL, DB).decision, SamplingDecision.NOT_RECORD);
    assert.equal(decide(s, SpanKind.CLIENT, {}).decision, SamplingDecision.NOT_RECORD);
    assert.equal(decide(s, SpanKind.CLIENT, { 'http.request.method': 'GET' }).decision, SamplingDecision.NOT_RECORD);
  });

  it('passes RECORD_AND_SAMPLED through unchanged', () => {
    const s = new RecordForMetrics(new AlwaysOnSampler(), feedsMetrics);
    assert.equal(decide(s, SpanKind.CLIENT, DB).decision, SamplingDecision.RECORD_AND_SAMPLED);
    assert.equal(decide(s, SpanKind.SERVER, {}).decision, SamplingDecision.RECORD_AND_SAMPLED);
  });

  it('passes RECORD through unchanged', () => {
    const inner = new Fixed({ decision: SamplingDecision.RECORD });
    const s = new RecordForMetrics(inner, feedsMetrics);
    assert.equal(decide(s, SpanKind.SERVER, {}).decision, SamplingDecision.RECORD);
    assert.equal(decide(s, SpanKind.CLIENT, DB).decision, SamplingDecision.RECORD);
  });

  it('returns the inner result object itself when it does not upgrade', () => {
    const result: SamplingResult = { decision: SamplingDecision.RECORD_AND_SAMPLED, attributes: { a: 1 } };
    const s = new RecordForMetrics(new Fixed(result), feedsMetrics);
    assert.equal(decide(s, SpanKind.CLIENT, DB), result);
  });

  it('keeps the inner attributes and trace state when it upgrades', () => {
    const traceState = createTraceState('vendor=x');
    const s = new RecordForMetrics(
      new Fixed({ decision: SamplingDecision.NOT_RECORD, attributes: { extra: 'y' }, traceState }),
      feedsMetrics,
    );
    const r = decide(s, SpanKind.CLIENT, DB);
    assert.equal(r.decision, SamplingDecision.RECORD);
    assert.deepEqual(r.attributes, { extra: 'y' });
    assert.equal(r.traceState, traceState);
  });

  it('upgrades under a parent that was not sampled (parent-based)', () => {
    const parent = trace.setSpanContext(ROOT_CONTEXT, {
      traceId: TRACE_ID,
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.NONE,
      isRemote: true,
    });
    const s = new RecordForMetrics(new ParentBasedSampler({ root: new AlwaysOnSampler() }), feedsMetrics);
    assert.equal(decide(s, SpanKind.CLIENT, DB, parent).decision, SamplingDecision.RECORD);
    assert.equal(decide(s, SpanKind.SERVER, {}, parent).decision, SamplingDecision.NOT_RECORD);
  });

  it('asks the inner sampler once per span and passes the arguments through', () => {
    let seen: unknown[] = [];
    const inner: Sampler = {
      shouldSample: (...args: unknown[]) => {
        seen = args;
        return { decision: SamplingDecision.NOT_RECORD };
      },
      toString: () => 'Spy',
    } as Sampler;
    const s = new RecordForMetrics(inner, feedsMetrics);
    const links = [{ context: { traceId: TRACE_ID, spanId: 'b7ad6b7169203331', traceFlags: 0 } }];
    s.shouldSample(ROOT_CONTEXT, TRACE_ID, 'SELECT', SpanKind.CLIENT, DB, links);
    assert.deepEqual(seen, [ROOT_CONTEXT, TRACE_ID, 'SELECT', SpanKind.CLIENT, DB, links]);
  });

  it('names the inner sampler', () => {
    assert.equal(new RecordForMetrics(new AlwaysOffSampler(), feedsMetrics).toString(), 'RecordForMetrics{AlwaysOffSampler}');
  });
});

describe('createSampler', () => {
  it('maps each OTEL_TRACES_SAMPLER name', () => {
    assert.equal(createSampler('always_on', 1).toString(), 'AlwaysOnSampler');
    assert.equal(createSampler('always_off', 1).toString(), 'AlwaysOffSampler');
    assert.match(createSampler('traceidratio', 0.25).toString(), /TraceIdRatioBased\{0\.25\}/);
    assert.match(createSampler('parentbased_always_on', 1).toString(), /ParentBased\{root=AlwaysOnSampler/);
    assert.match(createSampler('parentbased_always_off', 1).toString(), /ParentBased\{root=AlwaysOffSampler/);
    assert.match(createSampler('parentbased_traceidratio', 0.5).toString(), /ParentBased\{root=TraceIdRatioBased\{0\.5\}/);
  });
});
