/**
 * The seed's business-metric calls. Safe no-ops when the SDK is disabled or metrics are
 * off; bad arguments are normalised or dropped with a debug line, never thrown.
 */
import type { SpanContext } from '@opentelemetry/api';
import { globalSlot } from '../global-slot';
import { routeOfLabel } from '../http/route';
import { stringify } from '../logging/logger';
import type { AiLedger } from './ai-ledger';
import type { CatalogMetrics } from './families';

interface MetricsState {
  readonly metrics: CatalogMetrics;
  readonly ai: AiLedger;
  readonly debug: (message: string) => void;
}

/** The active span's ids, for an exemplar. Required on use: an app importing this package with the SDK disabled loads no OpenTelemetry module. */
function activeSpanIds(): SpanContext | undefined {
  return (require('@opentelemetry/api') as typeof import('@opentelemetry/api')).trace.getActiveSpan()?.spanContext();
}

/** Global so that a second copy of the package (the app's own import) reaches the preload's registry. */
const slot = globalSlot<MetricsState>('@innatural/otel.metrics');

export function setMetricsState(state: MetricsState | undefined): void {
  slot.set(state);
}

function state(): MetricsState | undefined {
  return slot.get();
}

const MAX_LABEL = 128;


function label(value: unknown, what: string, st: MetricsState): string {
  if (typeof value === 'string' && value.trim() !== '') return value.length > MAX_LABEL ? value.slice(0, MAX_LABEL) : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  st.debug(`metrics: ${what} ${stringify(value)} is not a label value; recorded as "unknown"`);
  return 'unknown';
}

function count(value: unknown, what: string, st: MetricsState): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  st.debug(`metrics: ${what} ${stringify(value)} is not a count >= 0; dropped`);
  return undefined;
}

export function trackChatMessage(role: string, language: string): void {
  const st = state();
  if (!st) return;
  st.metrics.messages.inc([label(role, 'role', st), label(language, 'language', st)]);
}

/**
 * `startTime` is `Date.now()` taken before the call, as in the seed. Token counts that are
 * missing, negative or NaN are not counted; the request still is. A call made with the
 * instrumented openai client is already counted from its span and is not counted again.
 */
export function trackAIRequest(
  model: string,
  startTime: number,
  success: boolean,
  promptTokens?: number,
  completionTokens?: number,
): void {
  const st = state();
  if (!st) return;
  const m = label(model, 'model', st);
  if (typeof startTime === 'number' && st.ai.claim(m, startTime, Date.now())) {
    st.debug(`metrics: trackAIRequest(${m}) matches a call the openai instrumentation already counted; not counted twice`);
    return;
  }
  const elapsed = typeof startTime === 'number' ? Date.now() - startTime : NaN;
  if (Number.isFinite(elapsed) && elapsed >= 0) {
    st.metrics.aiRequestDuration.observe([m, success ? 'success' : 'error'], elapsed / 1000, activeSpanIds());
  } else {
    st.debug(`metrics: trackAIRequest startTime ${stringify(startTime)} is not a past Date.now(); duration dropped`);
  }
  const prompt = count(promptTokens, 'promptTokens', st);
  const completion = count(completionTokens, 'completionTokens', st);
  if (prompt) st.metrics.aiTokens.inc([m, 'prompt'], prompt);
  if (completion) st.metrics.aiTokens.inc([m, 'completion'], completion);
}

export function recordError(type: string, severity: string = 'error'): void {
  const st = state();
  if (!st) return;
  st.metrics.errors.inc([label(type, 'error type', st), label(severity, 'severity', st)], 1, activeSpanIds());
}

export function setActiveSessions(value: number): void {
  const st = state();
  if (!st) return;
  const n = count(value, 'active sessions', st);
  if (n !== undefined) st.metrics.activeSessions.set([], n);
}

export function sessionStarted(): void {
  state()?.metrics.activeSessions.inc([], 1);
}

export function sessionEnded(): void {
  const st = state();
  if (!st) return;
  // Never below zero: an unmatched sessionEnded() is a bug in the caller, not a negative session.
  const current = st.metrics.activeSessions.all()[0]?.value ?? 0;
  st.metrics.activeSessions.set([], Math.max(0, current - 1));
}

export function recordProductRecommendation(category: string): void {
  const st = state();
  if (!st) return;
  st.metrics.productRecommendations.inc([label(category, 'category', st)]);
}

export function recordUserFeedback(type: string): void {
  const st = state();
  if (!st) return;
  st.metrics.userFeedback.inc([label(type, 'feedback type', st)]);
}

/**
 * A route is a path: the app may hand over `req.originalUrl`, whose query string (a reset
 * token) must not become a label value, nor every distinct query a series.
 */
function routeLabel(value: unknown, st: MetricsState): string {
  return label(typeof value === 'string' ? routeOfLabel(value) : value, 'route', st);
}

export function recordRateLimitHit(route: string): void {
  const st = state();
  if (!st) return;
  st.metrics.rateLimitHits.inc([routeLabel(route, st)]);
}

export function recordValidationError(route: string): void {
  const st = state();
  if (!st) return;
  st.metrics.validationErrors.inc([routeLabel(route, st)]);
}

/** The seed's `metrics.recordError(type, severity)`. */
export const metrics = { recordError } as const;
