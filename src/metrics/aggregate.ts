/**
 * One registry's worth of families for a whole cluster, from each process's snapshot:
 * counters and histograms summed, gauges as their spec's `cluster` says (see
 * GaugeAggregation). Rebuilt at each read, so a worker that is gone is simply not in it,
 * except for what it had counted (see `retire`).
 */
import { Family, type MetricSpec } from './registry';
import { exemplarsOf, numberOf, snapshotOf, type FamilySnapshot } from './snapshot';

/** The `worker` label value of the primary's own series. */
export const PRIMARY_WORKER = 'primary';
export const WORKER_LABEL = 'worker';

export interface Contribution {
  /** `primary`, or the cluster worker id. */
  readonly worker: string;
  readonly families: readonly FamilySnapshot[];
}

function sameShape(a: MetricSpec, b: MetricSpec): boolean {
  const same = (x: readonly unknown[] | undefined, y: readonly unknown[] | undefined) =>
    (x ?? []).length === (y ?? []).length && (x ?? []).every((v, i) => v === (y ?? [])[i]);
  return a.type === b.type && same(a.labels, b.labels) && same(a.buckets, b.buckets);
}

function perWorker(spec: MetricSpec): boolean {
  return spec.type === 'gauge' && spec.cluster === 'worker' && !spec.labels.includes(WORKER_LABEL);
}

function add(into: Family, from: FamilySnapshot): void {
  for (const s of from.series) {
    if (from.spec.type === 'histogram') into.addHistogram(s.l, s.c ?? [], numberOf(s.s), s.n ?? 0);
    else into.inc(s.l, numberOf(s.v));
    // The newest exemplar of each bucket across the processes stays.
    for (const { bucket, exemplar } of exemplarsOf(s)) into.addExemplar(s.l, bucket, exemplar);
  }
}

export class ClusterAggregate {
  /** Counters and histograms of workers that exited, by family name. */
  private readonly retired = new Map<string, Family>();
  /** Families a contribution skipped because another process declared the same name with another shape. */
  mismatches = 0;

  constructor(private readonly limit: number) {}

  /**
   * A worker exited: what it counted stays in the totals. Dropping it would make a summed
   * counter go down, which Prometheus' rate() reads as a reset to zero and turns into a spike.
   * Its gauges go with it. Bounded like any family, by the cardinality cap.
   */
  retire(families: readonly FamilySnapshot[]): void {
    for (const f of families) {
      if (f.spec.type === 'gauge') continue;
      let into = this.retired.get(f.spec.name);
      if (into && !sameShape(into.spec, f.spec)) continue;
      if (!into) {
        into = new Family(f.spec, this.limit);
        this.retired.set(f.spec.name, into);
      }
      add(into, f);
    }
  }

  /** The group's families, in the order first seen (the primary's own first). */
  merge(contributions: readonly Contribution[]): Family[] {
    const byName = new Map<string, { spec: MetricSpec; out: Family }>();
    const order: Family[] = [];
    const target = (spec: MetricSpec): { spec: MetricSpec; out: Family } | undefined => {
      const found = byName.get(spec.name);
      if (found) {
        if (sameShape(found.spec, spec)) return found;
        this.mismatches++;
        return undefined;
      }
      const outSpec = perWorker(spec) ? { ...spec, labels: [...spec.labels, WORKER_LABEL] } : spec;
      const entry = { spec, out: new Family(outSpec, this.limit) };
      byName.set(spec.name, entry);
      order.push(entry.out);
      return entry;
    };
    for (const { worker, families } of contributions) {
      for (const family of families) {
        const entry = target(family.spec);
        if (!entry) continue;
        const { spec, out } = entry;
        const mode = perWorker(spec) ? 'worker' : spec.type === 'gauge' && spec.cluster === 'primary' ? 'primary' : 'sum';
        if (mode === 'sum') add(out, family);
        else if (mode === 'worker') for (const s of family.series) out.set([...s.l, worker], numberOf(s.v));
        else if (worker === PRIMARY_WORKER) for (const s of family.series) out.set(s.l, numberOf(s.v));
      }
    }
    for (const retired of this.retired.values()) {
      const entry = target(retired.spec);
      if (entry) add(entry.out, snapshotOf([retired])[0]!);
    }
    return order;
  }
}

