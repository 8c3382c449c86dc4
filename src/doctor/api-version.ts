import { findApiCopies, planApi, type ApiPlan } from '../otel-api';
import type { Finding } from './findings';

const SUBJECT = '@opentelemetry/api';

/** What the preload will say about the API copies here: the same plan, as findings. */
export function apiFindings(appDirs: readonly string[], plan: ApiPlan = planApi(findApiCopies(appDirs))): Finding[] {
  if (plan.conflicts.length > 0) return plan.conflicts.map((c) => ({ level: 'error', subject: SUBJECT, message: c.message }));
  const { registrar } = plan;
  if (!registrar) return [];
  const others = plan.copies.filter((c) => c !== registrar);
  const by = (users: readonly string[]) => users.join(', ');
  const message =
    others.length === 0
      ? `${registrar.version}, one copy for ${by(registrar.users)}`
      : `${registrar.version} (${by(registrar.users)}) registers the globals; ${others.map((c) => `${c.version} (${by(c.users)})`).join(', ')} use${others.length === 1 ? 's' : ''} them`;
  return [{ level: 'ok', subject: SUBJECT, message }];
}
