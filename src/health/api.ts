import { globalSlot } from '../global-slot';
import { describeError } from '../logging/logger';
import type { CheckOptions, HealthChecks } from './checks/registry';
import type { CheckResult, CheckStatus } from './checks/types';

/** What an app's own check may return: true/undefined is healthy, false unhealthy, or a result object. */
export type AppCheck = () => boolean | void | Partial<CheckResult> | Promise<boolean | void | Partial<CheckResult>>;

const slot = globalSlot<HealthChecks>('@innatural/otel.health');

export function setHealthChecks(checks: HealthChecks | undefined): void {
  slot.set(checks);
}

const STATUSES: readonly CheckStatus[] = ['healthy', 'degraded', 'unhealthy'];

function normalize(value: boolean | void | Partial<CheckResult>, responseTime: number): CheckResult {
  if (value === undefined || value === true) return { status: 'healthy', responseTime };
  if (value === false) return { status: 'unhealthy', responseTime };
  const status = STATUSES.includes(value.status as CheckStatus) ? (value.status as CheckStatus) : 'healthy';
  return { responseTime, ...value, status };
}

/**
 * Adds the app's own dependency to /api/health (under `services[name]`) and, when
 * critical, to readiness. A no-op when the SDK is disabled; never throws.
 */
export function registerHealthCheck(name: string, check: AppCheck, options: CheckOptions = {}): void {
  const checks = slot.get();
  if (!checks || typeof name !== 'string' || name === '' || typeof check !== 'function') return;
  checks.register(
    name,
    async () => {
      const started = performance.now();
      try {
        return normalize(await check(), Math.round(performance.now() - started));
      } catch (err) {
        return { status: 'unhealthy', responseTime: Math.round(performance.now() - started), message: describeError(err) };
      }
    },
    options,
  );
}
