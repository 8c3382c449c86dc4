/**
 * A primary's side: from the app's first fork on, its health server answers for the
 * group. It asks every worker at each read (scrape, summary, probe, dashboard tick), waits
 * at most a fixed time for each, and stands in for a worker that is late with its last
 * answer, so a hung worker costs a scrape that much time and never its counts.
 */
import type { Cluster, Worker } from 'node:cluster';
import { describeError, type Logger } from '../logging/logger';
import { RateLimiter } from '../logging/rate-limit';
import { ClusterAggregate, PRIMARY_WORKER } from '../metrics/aggregate';
import { Family, type MetricSpec } from '../metrics/registry';
import { readSnapshot, snapshotOf, type FamilySnapshot } from '../metrics/snapshot';
import { isReply, PROTOCOL_VERSION, request, type Want, type WorkerHealth } from './protocol';
import type { WorkerStatus } from './group-health';
import { readStates, type InstrumentationStates } from '../health/instrumentation-states';

/**
 * How long a read waits for each worker. Under Kubernetes' default probe timeout (1 s)
 * and far under Prometheus' scrape timeout (10 s); a worker answers in a few ms unless its
 * event loop is blocked, and then its previous answer stands in.
 */
export const WORKER_TIMEOUT_MS = 500;
/** Reads in a row a worker may miss before one line says so. */
const MISSES_BEFORE_WARNING = 3;
/** The preload answers from before the app loads (~0.3 s after the fork): silence past this is news. */
const START_GRACE_MS = 5_000;

interface Tracked {
  readonly worker: Worker;
  readonly id: string;
  readonly pid: number;
  readonly forkedAt: number;
  last: FamilySnapshot[] | undefined;
  misses: number;
  warned: boolean;
  answeredOnce: boolean;
  /** As of its last reply. */
  instrumentations: InstrumentationStates | undefined;
}

interface Round {
  readonly waiting: Set<string>;
  readonly health: Map<string, WorkerHealth>;
  finish(): void;
}

/** Whether the app has loaded node:cluster; a service that never does must not load it for us. */
export function clusterLoaded(): boolean {
  const list = (process as { moduleLoadList?: unknown }).moduleLoadList;
  // Without the list (another runtime) we cannot tell, and loading the module is harmless.
  return !Array.isArray(list) || list.includes('NativeModule cluster');
}

export interface PrimaryOptions {
  readonly logger: Logger;
  readonly prefix: string;
  readonly cardinalityLimit: number;
  readonly timeoutMs?: number;
}

export class ClusterPrimary {
  private cluster: Cluster | undefined;
  private readonly workers = new Map<string, Tracked>();
  private readonly rounds = new Map<number, Round>();
  private readonly inflight = new Map<Want, Promise<Map<string, WorkerHealth>>>();
  private nextId = 1;
  private seen = false;
  private exits = 0;
  private readonly aggregate: ClusterAggregate;
  private readonly exitLines = new RateLimiter(10_000);
  private readonly workersSpec: MetricSpec;
  private readonly exitsSpec: MetricSpec;
  private warnedMismatch = false;
  private readonly timeoutMs: number;

  constructor(private readonly options: PrimaryOptions) {
    this.aggregate = new ClusterAggregate(options.cardinalityLimit);
    this.timeoutMs = options.timeoutMs ?? WORKER_TIMEOUT_MS;
    this.workersSpec = {
      name: `${options.prefix}_cluster_workers`,
      help: 'Cluster workers the health server answers for: running, and reporting (answered the last read in time)',
      type: 'gauge',
      labels: ['state'],
    };
    this.exitsSpec = {
      name: `${options.prefix}_cluster_worker_exits_total`,
      help: 'Cluster workers that exited since the primary started',
      type: 'counter',
      labels: [],
    };
  }

  /** True from the first worker on: the health server then answers for the group. */
  get active(): boolean {
    this.attach();
    return this.seen;
  }

  /** Idempotent; cheap until the app loads node:cluster. */
  attach(): void {
    if (this.cluster || !clusterLoaded()) return;
    try {
      const cluster = require('node:cluster') as Cluster;
      if (!cluster.isPrimary) return;
      this.cluster = cluster;
      cluster.on('fork', (w) => this.track(w));
      cluster.on('exit', (w, code, signal) => this.exited(w, code, signal));
      cluster.on('message', (w, message) => this.received(w, message));
      for (const w of Object.values(cluster.workers ?? {})) if (w) this.track(w);
    } catch (err) {
      this.options.logger.debug(`node:cluster is unavailable: ${describeError(err)}`);
    }
  }

  /** Asks every worker for its metrics; those late by the timeout keep their previous answer. */
  async refresh(): Promise<void> {
    await this.ask('metrics');
  }

  /** The group's families as of the last refresh: this process's own (`local`) with every worker's. */
  families(local: readonly Family[]): Family[] {
    const contributions = [{ worker: PRIMARY_WORKER, families: snapshotOf(local) }];
    for (const t of this.sorted()) if (t.last) contributions.push({ worker: t.id, families: t.last });
    const merged = this.aggregate.merge(contributions);
    if (this.aggregate.mismatches > 0 && !this.warnedMismatch) {
      this.warnedMismatch = true;
      this.options.logger.warn('Cluster workers declare some metrics with other labels or buckets than the primary (another release of @innatural/otel?): those workers’ series of them are left out');
    }
    const workers = new Family(this.workersSpec, 10);
    // Counted as the contributions above are, until its exit is handled: a killed worker
    // disconnects before 'exit', and counting it out earlier would show its gauges with one worker fewer.
    const running = this.sorted();
    workers.set(['running'], running.length);
    workers.set(['reporting'], running.filter((t) => t.misses === 0 && t.last).length);
    const exits = new Family(this.exitsSpec, 1);
    exits.inc([], this.exits);
    return [...merged, workers, exits];
  }

  /** Each worker's answer to a health request, undefined for those that did not answer in time. */
  async health(): Promise<WorkerStatus[]> {
    const answers = await this.ask('health');
    return this.sorted().map((t) => ({ id: t.id, pid: t.pid, health: answers.get(t.id), answeredOnce: t.answeredOnce }));
  }

  /** Each running worker's instrumentation states, as of its last reply. */
  instrumentations(): InstrumentationStates[] {
    return this.sorted().flatMap((t) => (t.instrumentations ? [t.instrumentations] : []));
  }

  private sorted(): Tracked[] {
    return [...this.workers.values()].sort((a, b) => Number(a.id) - Number(b.id));
  }

  private track(worker: Worker): void {
    const id = String(worker.id);
    if (this.workers.has(id)) return;
    this.seen = true;
    this.workers.set(id, { worker, id, pid: worker.process.pid ?? 0, forkedAt: Date.now(), last: undefined, misses: 0, warned: false, answeredOnce: false, instrumentations: undefined });
  }

  private exited(worker: Worker, code: number | null, signal: string | null): void {
    const id = String(worker.id);
    const t = this.workers.get(id);
    if (!t) return;
    this.workers.delete(id);
    this.exits++;
    if (t.last) this.aggregate.retire(t.last);
    for (const round of this.rounds.values()) {
      round.waiting.delete(id);
      if (round.waiting.size === 0) round.finish();
    }
    const graceful = code === 0 && !signal;
    const suppressed = this.exitLines.take(graceful ? 'exit' : 'crash');
    if (suppressed === undefined) return;
    const how = signal ? `by ${signal}` : `with code ${code}`;
    const more = suppressed > 0 ? ` (${suppressed} more ${graceful ? 'exits' : 'crashes'} since the last line)` : '';
    this.options.logger[graceful ? 'info' : 'warn'](
      `Cluster worker ${id} (pid ${t.pid}) exited ${how}${more}; the health server answers for the ${this.workers.size} left, and keeps what it had counted`,
    );
  }

  private received(worker: Worker, message: unknown): void {
    if (!isReply(message)) return;
    const t = this.workers.get(String(worker.id));
    if (!t) return;
    if (message.v !== PROTOCOL_VERSION) {
      if (!t.warned) this.options.logger.warn(`Cluster worker ${t.id} (pid ${t.pid}) runs another release of @innatural/otel (protocol ${String(message.v)}, ours ${PROTOCOL_VERSION}); its metrics and checks are left out`);
      t.warned = true;
      return;
    }
    // Also from a round that timed out: a late answer is the freshest there is for the next read.
    const families = message.metrics !== undefined ? readSnapshot(message.metrics) : undefined;
    if (families) t.last = families;
    t.instrumentations = readStates(message.instrumentations) ?? t.instrumentations;
    const round = typeof message.id === 'number' ? this.rounds.get(message.id) : undefined;
    if (!round || !round.waiting.has(t.id)) return;
    const health = message.health as WorkerHealth | undefined;
    if (health && typeof health === 'object' && Array.isArray(health.checks)) round.health.set(t.id, health);
    round.waiting.delete(t.id);
    this.answered(t);
    if (round.waiting.size === 0) round.finish();
  }

  private answered(t: Tracked): void {
    if (t.warned && t.misses >= MISSES_BEFORE_WARNING) this.options.logger.info(`Cluster worker ${t.id} (pid ${t.pid}) answers again`);
    t.misses = 0;
    t.warned = false;
    t.answeredOnce = true;
  }

  /** Concurrent reads share one round: a thousand probes ask each worker once. */
  private ask(want: Want): Promise<Map<string, WorkerHealth>> {
    this.attach();
    let pending = this.inflight.get(want);
    if (!pending) {
      pending = this.round(want).finally(() => this.inflight.delete(want));
      this.inflight.set(want, pending);
    }
    return pending;
  }

  private round(want: Want): Promise<Map<string, WorkerHealth>> {
    const targets = this.sorted().filter((t) => t.worker.isConnected());
    if (targets.length === 0) return Promise.resolve(new Map());
    const id = this.nextId++;
    return new Promise((resolve) => {
      const round: Round = {
        waiting: new Set(targets.map((t) => t.id)),
        health: new Map(),
        finish: () => {
          if (!this.rounds.delete(id)) return;
          clearTimeout(timer);
          for (const late of round.waiting) this.missed(late);
          resolve(round.health);
        },
      };
      const timer = setTimeout(() => round.finish(), this.timeoutMs);
      timer.unref();
      this.rounds.set(id, round);
      for (const t of targets) {
        const drop = (err: unknown) => {
          this.options.logger.debug(`Cluster request to worker ${t.id} not sent: ${describeError(err)}`);
          round.waiting.delete(t.id);
          if (round.waiting.size === 0) round.finish();
        };
        try {
          t.worker.send(request(id, want), undefined, undefined, (err: Error | null) => err && drop(err));
        } catch (err) {
          drop(err);
        }
      }
    });
  }

  private missed(id: string): void {
    const t = this.workers.get(id);
    if (!t) return;
    t.misses++;
    const never = !t.answeredOnce;
    if (t.misses < MISSES_BEFORE_WARNING || t.warned || (never && Date.now() - t.forkedAt < START_GRACE_MS)) return;
    t.warned = true;
    this.options.logger.warn(
      never
        ? `Cluster worker ${t.id} (pid ${t.pid}) has never answered the health server: it may run without the preload (cluster.setupPrimary({ execArgv }) without --require?); its metrics are missing, and readiness goes without it`
        : `Cluster worker ${t.id} (pid ${t.pid}) did not answer within ${this.timeoutMs} ms ${t.misses} times in a row (event loop blocked?); its last metrics stand in and it counts as not ready`,
    );
  }
}
