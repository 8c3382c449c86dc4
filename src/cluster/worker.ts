/**
 * A cluster worker's side: it binds no port and answers its primary's requests for its
 * metrics and its own health checks. It never speaks unasked, never waits on the channel,
 * and a closed channel (the primary gone, the worker disconnecting) is not an error.
 */
import type { HealthChecks } from '../health/checks/registry';
import type { InstrumentationStates } from '../health/instrumentation-states';
import type { ShutdownState } from '../health/shutdown-state';
import { describeError, type Logger } from '../logging/logger';
import type { Registry } from '../metrics/registry';
import { snapshotOf } from '../metrics/snapshot';
import { isRequest, PROTOCOL_VERSION, REPLY_TYPE, type Reply, type Request, type WorkerHealth } from './protocol';

export interface WorkerSide {
  /** undefined with OTEL_METRICS_EXPORTER=none: the worker sends no families. */
  readonly registry: Registry | undefined;
  readonly checks: HealthChecks;
  readonly shutdown: ShutdownState;
  readonly logger: Logger;
  readonly instrumentations?: () => InstrumentationStates;
}

/**
 * Below the primary's wait for an answer: checks still running after it are reported as they
 * last completed, so one slow dependency check does not read as a hung worker.
 */
const FRESH_CHECKS_WAIT_MS = 300;

async function health({ checks, shutdown }: WorkerSide): Promise<WorkerHealth> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), FRESH_CHECKS_WAIT_MS);
    timer.unref();
  });
  const outcomes = (await Promise.race([checks.results(), late])) ?? checks.latest() ?? new Map();
  clearTimeout(timer);
  return {
    shuttingDown: shutdown.shuttingDown,
    checks: [...outcomes].map(([name, { critical, result }]) => [name, critical, result] as const),
  };
}

async function answer(request: Request, side: WorkerSide): Promise<Reply> {
  const base = { type: REPLY_TYPE, v: PROTOCOL_VERSION, id: request.id, pid: process.pid, instrumentations: side.instrumentations?.() } as const;
  if (request.want === 'health') return { ...base, health: await health(side) };
  if (!side.registry) return { ...base, metrics: [] };
  return { ...base, metrics: snapshotOf(await side.registry.collect()) };
}

function send(reply: Reply, logger: Logger): void {
  if (typeof process.send !== 'function' || !process.connected) return;
  try {
    // With a callback, a failed send is reported to it instead of as an 'error' event on process.
    process.send(reply, undefined, undefined, (err: Error | null) => {
      if (err) logger.debug(`Cluster reply to the primary not sent: ${describeError(err)}`);
    });
  } catch (err) {
    logger.debug(`Cluster reply to the primary not sent: ${describeError(err)}`);
  }
}

/** Returns the undo. */
export function answerPrimary(side: WorkerSide): () => void {
  const onMessage = (message: unknown) => {
    if (!isRequest(message)) return;
    answer(message, side).then(
      (reply) => send(reply, side.logger),
      (err) => side.logger.debug(`Cluster request ${message.want} failed: ${describeError(err)}`),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}
