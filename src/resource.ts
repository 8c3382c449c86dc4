import {
  defaultResource,
  detectResources,
  hostDetector,
  osDetector,
  processDetector,
  resourceFromAttributes,
  serviceInstanceIdDetector,
  type Resource,
  type ResourceDetector,
} from '@opentelemetry/resources';
import { clusterRole } from './cluster/role';
import type { DetectorName, ResolvedConfig } from './config/resolve';
import { requireOptional, type AppInfo } from './modules';
import { CLOUD_DETECTOR_PACKAGES, isCloudDetector, missingDetector } from './packages';
import { REDACTED, sinkRedactor } from './redaction/policy';

/** argv can carry tokens (`--password=...`); the script path is enough to tell processes apart. */
const DROPPED_PROCESS_ATTRIBUTES = ['process.command_args', 'process.command_line'];

const withoutArgs: ResourceDetector = {
  detect: (config) => {
    const detected = processDetector.detect(config);
    const attributes = { ...detected.attributes };
    for (const key of DROPPED_PROCESS_ATTRIBUTES) delete attributes[key];
    return { attributes };
  },
};

function detectorsFor(name: DetectorName, app: AppInfo, onMissing: (line: string) => void): ResourceDetector[] {
  // Cloud detectors call metadata endpoints: they load only when named, from a package we do not ship.
  if (isCloudDetector(name)) {
    const { pkg, exports } = CLOUD_DETECTOR_PACKAGES[name];
    const mod = requireOptional<Record<string, ResourceDetector | undefined>>(pkg, app.searchDirs);
    if (!mod) {
      onMissing(missingDetector(name));
      return [];
    }
    return exports.map((n) => mod[n]).filter((d): d is ResourceDetector => d !== undefined);
  }
  switch (name) {
    case 'env':
      return []; // OTEL_RESOURCE_ATTRIBUTES is parsed by our config and merged last
    case 'host':
      return [hostDetector];
    case 'os':
      return [osDetector];
    case 'process':
      return [withoutArgs];
    case 'serviceinstance':
      return [serviceInstanceIdDetector];
    case 'container':
      // Our own dependency (on by default), so the preload bundle carries it.
      return [(require('@opentelemetry/resource-detector-container') as { containerDetector: ResourceDetector }).containerDetector];
  }
}

/**
 * Marks what our SDK sent, so a collector can tell it from spans of services without it
 * (collector/otelcol.yaml derives HTTP metrics from spans only for those).
 */
export const DISTRO_NAME = '@innatural/otel';

function distroVersion(): string {
  try {
    // dist/src/resource.js -> package.json; read once at start.
    return (require('../../package.json') as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Precedence, lowest first: detectors, the app's package.json, OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME. */
export function buildResource(config: ResolvedConfig, app: AppInfo, onMissing: (line: string) => void = () => {}): Resource {
  const detected = detectResources({ detectors: config.resourceDetectors.flatMap((name) => detectorsFor(name, app, onMissing)) });
  const fromApp: Record<string, string> = {};
  if (app.name) fromApp['service.name'] = app.name;
  if (app.version) fromApp['service.version'] = app.version;
  if (config.environment) fromApp['deployment.environment.name'] = config.environment;
  // Every signal carries the resource: `deploy.token=...` in OTEL_RESOURCE_ATTRIBUTES is a secret in all of them.
  const redactor = sinkRedactor(config.redaction, 'spans');
  const explicit: Record<string, string> = {};
  for (const [key, value] of Object.entries(config.resourceAttributes)) explicit[key] = redactor.isSecretAttribute(key) ? REDACTED : redactor.text(value);
  if (config.serviceName) explicit['service.name'] = config.serviceName;
  // One id set for a pod (OTEL_RESOURCE_ATTRIBUTES) would be shared by every cluster worker in it,
  // and their OTLP metric streams would collide; the detector's is random per process already.
  const role = explicit['service.instance.id'] !== undefined ? clusterRole() : undefined;
  if (role && role.kind !== 'process') explicit['service.instance.id'] += `-worker-${role.id}`;
  const distro = resourceFromAttributes({ 'telemetry.distro.name': DISTRO_NAME, 'telemetry.distro.version': distroVersion() });
  return defaultResource().merge(distro).merge(detected).merge(resourceFromAttributes(fromApp)).merge(resourceFromAttributes(explicit));
}
