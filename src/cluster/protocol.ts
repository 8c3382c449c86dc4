/**
 * What the primary and its workers say to each other over the cluster IPC channel. The app
 * and other tools (PM2) share that channel: ours are objects whose `type` is namespaced, as
 * prom-client's are (`prom-client:getMetricsReq`), so their handlers pass them by; and a
 * worker speaks only when asked, so a primary without the preload never hears from us.
 */
import type { CheckResult } from '../health/checks/types';
import type { FamilySnapshot } from '../metrics/snapshot';
import type { InstrumentationStates } from '../health/instrumentation-states';

export const REQUEST_TYPE = '@innatural/otel:cluster-request';
export const REPLY_TYPE = '@innatural/otel:cluster-reply';
/** Bumped when a field changes meaning: a primary and a worker of different releases ignore each other. */
export const PROTOCOL_VERSION = 1;

/**
 * Set by a primary that runs the preload, to its pid, before the app forks: a worker whose
 * parent pid it names knows someone collects its metrics, so it binds no port. Not an
 * INNATURAL_ name: it is no setting, and `doctor` must not list it as an unknown one.
 */
export const PRIMARY_ENV = '__INNATURAL_OTEL_CLUSTER_PRIMARY';

export type Want = 'metrics' | 'health';

export interface Request {
  readonly type: typeof REQUEST_TYPE;
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
  readonly want: Want;
}

export interface WorkerHealth {
  readonly shuttingDown: boolean;
  /** The worker's own checks (`registerHealthCheck` in worker code): [name, critical, result]. */
  readonly checks: ReadonlyArray<readonly [string, boolean, CheckResult]>;
}

export interface Reply {
  readonly type: typeof REPLY_TYPE;
  readonly v: typeof PROTOCOL_VERSION;
  readonly id: number;
  readonly pid: number;
  readonly metrics?: readonly FamilySnapshot[];
  readonly health?: WorkerHealth;
  /** On every reply: small, and the summary reads it after a metrics round. */
  readonly instrumentations?: InstrumentationStates;
}

const isObject = (m: unknown): m is Record<string, unknown> => typeof m === 'object' && m !== null;

export function isRequest(m: unknown): m is Request {
  return isObject(m) && m.type === REQUEST_TYPE && m.v === PROTOCOL_VERSION && typeof m.id === 'number' && (m.want === 'metrics' || m.want === 'health');
}

/** Ours, whatever the release: the primary must tell "not ours" from "ours, another version". */
export function isReply(m: unknown): m is Record<string, unknown> & { type: typeof REPLY_TYPE } {
  return isObject(m) && m.type === REPLY_TYPE;
}

export function request(id: number, want: Want): Request {
  return { type: REQUEST_TYPE, v: PROTOCOL_VERSION, id, want };
}
