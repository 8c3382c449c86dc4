import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  SamplingDecision,
  type SamplingResult,
  AlwaysOnSampler,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { SamplerName } from '../config/resolve';

export function createSampler(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * Counting must not depend on sampling: spans that metrics are derived from are at
 * least recorded (seen by span processors) even when the trace is dropped. They keep
 * the unsampled flag, so nothing more is exported or propagated than before.
 */
export class RecordForMetrics implements Sampler {
  constructor(
    private readonly inner: Sampler,
    private readonly feedsMetrics: (kind: SpanKind, attributes: Attributes | undefined) => boolean,
  ) {}

  shouldSample(context: Context, traceId: string, name: string, kind: SpanKind, attributes: Attributes, links: Link[]): SamplingResult {
    const result = this.inner.shouldSample(context, traceId, name, kind, attributes, links);
    if (result.decision !== SamplingDecision.NOT_RECORD || !this.feedsMetrics(kind, attributes)) return result;
    return { ...result, decision: SamplingDecision.RECORD };
  }

  toString(): string {
    return `RecordForMetrics{${this.inner.toString()}}`;
  }
}
