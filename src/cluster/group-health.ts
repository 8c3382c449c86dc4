/**
 * Health and readiness of a cluster, as its primary's health server answers them. The
 * primary runs the built-in checks once for the group (every worker has the same
 * environment); each worker reports the checks its own code registered.
 */
import type { CheckOutcome } from '../health/checks/registry';
import type { CheckStatus } from '../health/checks/types';
import type { WorkerHealth } from './protocol';

export interface WorkerStatus {
  readonly id: string;
  readonly pid: number;
  /** undefined: it did not answer in time. */
  readonly health: WorkerHealth | undefined;
  /** Whether it ever answered: one that never did may run without the preload, and cannot tell. */
  readonly answeredOnce: boolean;
}

export interface WorkerReport {
  readonly id: string;
  readonly pid: number;
  readonly ready: boolean;
  /** Why not, when not. */
  readonly reason?: string;
}

export interface GroupHealth {
  /** Every check of the group by name, the worst result where several processes run one. */
  readonly outcomes: ReadonlyMap<string, CheckOutcome>;
  readonly ready: boolean;
  readonly reason: string | undefined;
  readonly failing: string[];
  readonly workers: readonly WorkerReport[];
  /** Some worker that answered before is not ready now: the group serves with fewer. */
  readonly degraded: boolean;
}

const RANK: Record<CheckStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

function failingCritical(outcomes: Iterable<readonly [string, CheckOutcome]>): string[] {
  return [...outcomes].filter(([, o]) => o.critical && o.result.status === 'unhealthy').map(([name]) => name);
}

function workerReport(w: WorkerStatus): WorkerReport {
  const base = { id: w.id, pid: w.pid };
  if (!w.health) return { ...base, ready: false, reason: w.answeredOnce ? 'not answering' : 'never answered (starting, or without the preload)' };
  if (w.health.shuttingDown) return { ...base, ready: false, reason: 'shutting down' };
  const failing = failingCritical(w.health.checks.map(([name, critical, result]) => [name, { critical, result }] as const));
  if (failing.length > 0) return { ...base, ready: false, reason: `critical check failing: ${failing.join(', ')}` };
  return { ...base, ready: true };
}

/**
 * Ready when the primary's critical checks pass and at least one worker is ready: the
 * primary spreads connections over the workers it has, so one worker restarting, hung or
 * failing its own check must not take the whole group out of service (all workers would,
 * at every rolling restart). No worker at all is not ready: nothing would answer. Workers
 * that never answered do not count either way: a worker forked without the preload must
 * not take the app out of service (a line says it), and a starting one is judged, as a
 * single process is, from the moment it can answer.
 */
export function groupHealth(primary: ReadonlyMap<string, CheckOutcome>, workers: readonly WorkerStatus[]): GroupHealth {
  const outcomes = new Map(primary);
  for (const w of workers) {
    for (const [name, critical, result] of w.health?.checks ?? []) {
      const seen = outcomes.get(name);
      if (!seen || RANK[result.status] > RANK[seen.result.status]) outcomes.set(name, { critical: critical || (seen?.critical ?? false), result });
      else if (critical && !seen.critical) outcomes.set(name, { ...seen, critical: true });
    }
  }
  const reports = workers.map(workerReport);
  const failing = failingCritical(primary);
  const readyWorkers = reports.filter((r) => r.ready).length;
  const counted = workers.filter((w) => w.answeredOnce || w.health).length;
  let reason: string | undefined;
  if (failing.length > 0) reason = `critical check failing: ${failing.join(', ')}`;
  else if (workers.length === 0) reason = 'no cluster worker is running';
  else if (counted > 0 && readyWorkers === 0) reason = 'no cluster worker is ready';
  const degraded = reports.some((r, i) => !r.ready && workers[i]!.answeredOnce);
  return { outcomes, ready: reason === undefined, reason, failing, workers: reports, degraded };
}
