import { join } from 'node:path';
import type { ResolvedConfig, Signal } from '../config/resolve';
import { CATALOG } from '../config/instrumentations';
import { instrumentationCompat } from '../instrumentations/compat';
import { inspectInstrumentation, missingInstrumentation, type Plan } from '../instrumentations/load';
import { entryVersionWarnings, installedFrom } from '../instrumentations/versions';
import type { Logger } from '../logging/logger';
import { resolveOptional } from '../modules';
import { CLOUD_DETECTOR_PACKAGES, isCloudDetector, missingDetector, missingPeer, type Peer } from '../packages';
import type { Finding } from './findings';

/**
 * The signals the preload would export here: traces and metrics when an OTLP exporter is
 * configured; logs only when a logger instrumentation would also load, since log records come
 * from nowhere else (the logger provider is built when the first of them loads).
 */
export function exportingSignals(config: ResolvedConfig, plan: Plan): Signal[] {
  const logsFrom = plan.load.filter((name) => CATALOG[name].role === 'logs');
  return (['traces', 'metrics', 'logs'] as const).filter(
    (signal) => config[signal].exporters.includes('otlp' as never) && (signal !== 'logs' || logsFrom.length > 0),
  );
}

/** What the preload would say at start about packages we do not ship: the same lines, as findings. */
export function packageFindings(config: ResolvedConfig, searchDirs: readonly string[], plan: Plan): Finding[] {
  const findings: Finding[] = [];
  // The SDK's absence costs the errors' delivery; the profiler's only profiles.
  const peers: Array<[Peer, boolean, Finding['level']]> = [
    ['@sentry/node', config.sentry !== undefined, 'error'],
    ['@sentry/profiling-node', config.sentry !== undefined && config.sentry.profilesSampleRate > 0, 'warn'],
  ];
  for (const [pkg, wanted, level] of peers) {
    if (!wanted) continue;
    const path = resolveOptional(pkg, searchDirs);
    findings.push(path ? { level: 'ok', subject: pkg, message: `installed (${path})` } : { level, subject: pkg, message: missingPeer(pkg) });
  }
  for (const name of plan.missing) findings.push({ level: 'warn', subject: CATALOG[name].pkg, message: missingInstrumentation(name) });
  // The line the preload prints when it loads one of them: an API too old for its base, or a base of the 2.x line.
  for (const name of plan.load.filter((n) => !CATALOG[n].own)) {
    const entry = resolveOptional(CATALOG[name].pkg, searchDirs);
    const compat = entry === undefined ? undefined : instrumentationCompat(name, entry);
    if (compat) findings.push({ level: compat.level, subject: CATALOG[name].pkg, message: compat.message });
  }
  for (const name of config.resourceDetectors.filter(isCloudDetector)) {
    const { pkg } = CLOUD_DETECTOR_PACKAGES[name];
    if (resolveOptional(pkg, searchDirs) === undefined) findings.push({ level: 'warn', subject: pkg, message: missingDetector(name) });
  }
  return findings;
}

/**
 * The preload's warning for a target installed at a version its instrumentation does not cover
 * (see versions.ts), read from the app's node_modules: each instrumentation is built disabled.
 */
export function versionFindings(config: ResolvedConfig, searchDirs: readonly string[], plan: Plan, logger: Logger): Finding[] {
  const from = searchDirs.map((dir) => join(dir, '__innatural_otel__.js'));
  return plan.load.flatMap((name) => {
    // Built only when a target is installed: requiring an instrumentation costs.
    if (!CATALOG[name].modules.some((pkg) => from.some((file) => installedFrom(pkg, file)))) return [];
    const instrumentation = inspectInstrumentation(name, { config, searchDirs, sendLogs: false }, logger);
    if (!instrumentation) return [];
    return entryVersionWarnings(name, CATALOG[name], [instrumentation], from).map((w): Finding => ({ level: 'warn', subject: w.pkg, message: w.message }));
  });
}
