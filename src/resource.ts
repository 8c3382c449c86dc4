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
import { requireBundled, type AppInfo } from './modules';
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

/** Cloud detectors call metadata endpoints; they are loaded only when named. */
function detectorsFor(name: DetectorName): ResourceDetector[] {
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
      // Our own dependency (on by default), so the preload bundle carries it; the cloud ones below are auto-instrumentations-node's.
      return [(require('@opentelemetry/resource-detector-container') as { containerDetector: ResourceDetector }).containerDetector];
    case 'aws': {
      const aws = requireBundled<Record<string, ResourceDetector>>('@opentelemetry/resource-detector-aws');
      return ['awsEc2Detector', 'awsEcsDetector', 'awsEksDetector', 'awsBeanstalkDetector', 'awsLambdaDetector']
        .map((n) => aws[n])
        .filter((d): d is ResourceDetector => d !== undefined);
    }
    case 'gcp':
      return [requireBundled<{ gcpDetector: ResourceDetector }>('@opentelemetry/resource-detector-gcp').gcpDetector];
    case 'azure': {
      const azure = requireBundled<Record<string, ResourceDetector>>('@opentelemetry/resource-detector-azure');
      return ['azureAppServiceDetector', 'azureFunctionsDetector', 'azureVmDetector']
        .map((n) => azure[n])
        .filter((d): d is ResourceDetector => d !== undefined);
    }
    case 'alibaba':
      return [
        requireBundled<{ alibabaCloudEcsDetector: ResourceDetector }>('@opentelemetry/resource-detector-alibaba-cloud')
          .alibabaCloudEcsDetector,
      ];
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
export function buildResource(config: ResolvedConfig, app: AppInfo): Resource {
  const detected = detectResources({ detectors: config.resourceDetectors.flatMap(detectorsFor) });
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
