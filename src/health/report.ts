import type { CheckOutcome } from './checks/registry';
import type { CheckResult } from './checks/types';
import type { SystemReport } from './system';
import type { InstrumentationStates } from './instrumentation-states';

export type OverallStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface ReportInput {
  readonly outcomes: ReadonlyMap<string, CheckOutcome>;
  readonly system: SystemReport;
  readonly startedAtMs: number;
  readonly nowMs: number;
  readonly version: string;
  readonly environment: string;
  readonly responseTimeMs: number;
  /** What /api/health says for the built-in services that are not configured. */
  readonly notConfigured: Readonly<Record<string, NotConfigured>>;
  /** Which instrumentations trace (absent in a report built without them). */
  readonly instrumentations?: InstrumentationStates;
}

export interface NotConfigured {
  readonly status: 'not_configured';
  readonly [key: string]: unknown;
}

export function formatUptime(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${d > 0 ? `${d}d ` : ''}${h}h ${m}m ${s % 60}s`;
}

/**
 * Critical failure: unhealthy (503). A non-critical service failing, or memory or disk at
 * their critical threshold: degraded (200). CPU is reported, never graded into the status:
 * a busy process is not an unhealthy one, and start-up alone spikes it.
 */
export function overallStatus(outcomes: ReadonlyMap<string, CheckOutcome>, system?: SystemReport): OverallStatus {
  let status: OverallStatus = 'healthy';
  for (const { critical, result } of outcomes.values()) {
    if (result.status === 'healthy') continue;
    if (critical && result.status === 'unhealthy') return 'unhealthy';
    status = 'degraded';
  }
  if (system && [system.memory, system.disk].some((part) => part.status === 'critical')) status = 'degraded';
  return status;
}

/**
 * Ready unless shutting down or a critical check fails. Only critical checks decide: a
 * degraded cache must not pull the pod out of service.
 */
export function readiness(shuttingDown: boolean, outcomes: ReadonlyMap<string, CheckOutcome>): { ready: boolean; failing: string[] } {
  const failing = [...outcomes].filter(([, o]) => o.critical && o.result.status === 'unhealthy').map(([name]) => name);
  return { ready: !shuttingDown && failing.length === 0, failing };
}

/** The seed's /api/health document, every field. */
export function healthReport(input: ReportInput) {
  const services: Record<string, CheckResult | NotConfigured> = { ...input.notConfigured };
  for (const [name, { result }] of input.outcomes) services[name] = result;
  const uptimeSeconds = Math.floor((input.nowMs - input.startedAtMs) / 1000);
  return {
    status: overallStatus(input.outcomes, input.system),
    timestamp: new Date(input.nowMs).toISOString(),
    uptime: {
      seconds: uptimeSeconds,
      formatted: formatUptime(uptimeSeconds),
      startTime: new Date(input.startedAtMs).toISOString(),
    },
    version: input.version,
    environment: input.environment,
    responseTime: input.responseTimeMs,
    services,
    system: input.system,
    ...(input.instrumentations && { instrumentations: input.instrumentations }),
  };
}
