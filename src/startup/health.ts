import { startOps } from '../ops/start-ops';
import type { ShutdownState } from '../health/shutdown-state';
import type { Globals } from './globals';
import type { Instrumentations } from './instrumentations';
import type { Metrics } from './metrics';
import { part, type Part } from './part';

export interface Health extends Part {
  /** Set at SIGTERM: readiness answers 503 from then on. */
  readonly state: ShutdownState;
}

/** The probes and checks, and the operations server (/metrics, the dashboard), or the cluster's share of them. */
export function startHealth({ config, app, logger }: Globals, { pipeline }: Metrics, { states }: Pick<Instrumentations, 'states'>): Health {
  return part(logger, (undo) => {
    const health = startOps({ config, app, logger, registry: pipeline?.registry, catalog: pipeline?.catalog, instrumentations: states });
    undo.push(health.stop);
    return { state: health.shutdown };
  });
}
