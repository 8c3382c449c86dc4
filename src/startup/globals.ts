import * as ourApi from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { ResolvedConfig } from '../config/resolve';
import { installDiag, type DiagBridge } from '../export/diag';
import type { Logger } from '../logging/logger';
import { appInfo, type AppInfo } from '../modules';
import { findApiCopies, loadRegistrar, planApi, registeredVersion } from '../otel-api';
import { sinkRedactor, type Redactor } from '../redaction/policy';
import { part, type Part } from './part';

/** What every part starts from: the app, the API copy the globals go through, diag, the resource. */
export interface Globals extends Part {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly app: AppInfo;
  readonly api: ReturnType<typeof loadRegistrar>;
  readonly diag: DiagBridge;
  /** Built on first use: detectors read files, and a metrics-only service may never need it. */
  resource(): Resource;
  redactor(sink: Parameters<typeof sinkRedactor>[1]): Redactor;
}

export function startGlobals(config: ResolvedConfig, logger: Logger, mainScript: string | undefined, cwd: string | undefined): Globals {
  return part(logger, (undo) => {
    const app = appInfo(mainScript, cwd);
    // Every global goes through the newest API copy present (the app's may be newer than ours): see otel-api.ts.
    const apiPlan = planApi(findApiCopies(app.searchDirs), registeredVersion(1));
    for (const conflict of apiPlan.conflicts) logger.error(conflict.message);
    const api = loadRegistrar(apiPlan, ourApi);
    const diag = installDiag(logger, undefined, api.diag);
    undo.push(diag);
    let built: Resource | undefined;
    const resource = () => (built ??= (require('../resource') as typeof import('../resource')).buildResource(config, app, (line) => logger.warn(line)));
    const redactor = (sink: Parameters<typeof sinkRedactor>[1]) => sinkRedactor(config.redaction, sink);
    return { config, logger, app, api, diag, resource, redactor };
  });
}
