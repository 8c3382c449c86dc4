import { ValueType, type HrTime } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import type { AggregationTemporality, CollectionResult, DataPointType, MetricData, MetricProducer } from '@opentelemetry/sdk-metrics';
import { EXEMPLARS, type PointExemplar } from '../export/exemplars';
import type { Family, Registry, Series } from './registry';

const SCOPE = { name: '@innatural/otel' };

// sdk-metrics' enum values, written out: this module must not load sdk-metrics by itself
// (with only the Prometheus exporter, nothing else needs it).
const CUMULATIVE = 1 as AggregationTemporality.CUMULATIVE;
const HISTOGRAM = 0 as DataPointType.HISTOGRAM;
const GAUGE = 2 as DataPointType.GAUGE;
const SUM = 3 as DataPointType.SUM;

function attributes(family: Family, series: Series): Record<string, string> {
  const out: Record<string, string> = {};
  family.spec.labels.forEach((key, i) => (out[key] = series.labels[i] ?? ''));
  return out;
}

/**
 * The series' exemplars (a histogram's in bucket order) under a symbol the reader carries
 * through untouched to our serializers (export/exemplar-serializer.ts), which write them.
 */
function exemplars(series: Series): { [EXEMPLARS]?: readonly PointExemplar[] } {
  // Copies: the registry overwrites a bucket's exemplar in place, and the export is serialized later than this collect.
  const kept = series.exemplars?.filter((e) => e !== undefined).map((e) => ({ ...e }));
  return kept?.length ? { [EXEMPLARS]: kept } : {};
}

function toMetricData(family: Family, now: HrTime): MetricData {
  const { spec } = family;
  const descriptor = { name: spec.name, description: spec.help, unit: spec.unit ?? '', valueType: ValueType.DOUBLE };
  const series = family.all();
  const point = <T>(s: Series, value: T) => ({
    startTime: millisToHrTime(s.startTimeMs),
    endTime: now,
    attributes: attributes(family, s),
    value,
    ...exemplars(s),
  });
  if (spec.type === 'histogram') {
    return {
      descriptor,
      aggregationTemporality: CUMULATIVE,
      dataPointType: HISTOGRAM,
      dataPoints: series.map((s) =>
        point(s, { buckets: { boundaries: [...spec.buckets!], counts: [...s.counts!] }, sum: s.sum, count: s.count }),
      ),
    };
  }
  if (spec.type === 'counter') {
    return {
      descriptor,
      aggregationTemporality: CUMULATIVE,
      dataPointType: SUM,
      isMonotonic: true,
      dataPoints: series.map((s) => point(s, s.value)),
    };
  }
  return {
    descriptor,
    aggregationTemporality: CUMULATIVE,
    dataPointType: GAUGE,
    dataPoints: series.map((s) => point(s, s.value)),
  };
}

/** Our registry as one more source of a MetricReader: the same names over OTLP as on /metrics. */
export class RegistryProducer implements MetricProducer {
  constructor(private readonly registry: Registry) {}

  async collect(): Promise<CollectionResult> {
    const families = await this.registry.collect();
    const now = millisToHrTime(Date.now());
    const metrics = families.filter((f) => f.size > 0).map((f) => toMetricData(f, now));
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: SCOPE, metrics }] }, errors: [] };
  }
}
