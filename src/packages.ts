import type { CLOUD_DETECTORS, DetectorName } from './config/resolve';
import { AUTO_INSTRUMENTATIONS } from './modules';

/**
 * Packages we do not ship, which the user installs beside the app when they want what they
 * bring, as they install pg (resolveOptional in modules.ts finds them): Sentry's SDKs (optional
 * peers: every install would otherwise carry ~70 MB that load only with SENTRY_DSN), and the
 * instrumentations and cloud resource detectors outside the chatbot stack, one by one or all at
 * once through auto-instrumentations-node. The ranges are package.json's peerDependencies (a
 * test holds them equal).
 */
export const PEERS = {
  '@sentry/node': { range: '^11.1.0', wantedBy: 'SENTRY_DSN', without: 'until then errors are logged locally only' },
  '@sentry/profiling-node': { range: '^11.1.0', wantedBy: 'SENTRY_PROFILES_SAMPLE_RATE', without: 'profiling is off' },
} as const satisfies Record<string, { range: string; wantedBy: string; without: string }>;

export type Peer = keyof typeof PEERS;

/** The one line for a peer that the configuration wants and the app lacks, at start and in doctor. */
export function missingPeer(pkg: Peer): string {
  const { wantedBy, without } = PEERS[pkg];
  return `${wantedBy} is set but ${pkg} is not installed: ${installCommand(pkg)}; ${without}`;
}

/** What to run to get `pkg`: a peer with its supported range. */
export function installCommand(pkg: string): string {
  const range = Object.hasOwn(PEERS, pkg) ? PEERS[pkg as Peer].range : undefined;
  return `npm install ${range ? `${pkg}@${range}` : pkg}`;
}

export type CloudDetector = (typeof CLOUD_DETECTORS)[number];

/** Named in OTEL_NODE_RESOURCE_DETECTORS, each loads from its package (auto-instrumentations-node has them all). */
export const CLOUD_DETECTOR_PACKAGES = {
  aws: { pkg: '@opentelemetry/resource-detector-aws', exports: ['awsEc2Detector', 'awsEcsDetector', 'awsEksDetector', 'awsBeanstalkDetector', 'awsLambdaDetector'] },
  gcp: { pkg: '@opentelemetry/resource-detector-gcp', exports: ['gcpDetector'] },
  azure: { pkg: '@opentelemetry/resource-detector-azure', exports: ['azureAppServiceDetector', 'azureFunctionsDetector', 'azureVmDetector'] },
  alibaba: { pkg: '@opentelemetry/resource-detector-alibaba-cloud', exports: ['alibabaCloudEcsDetector'] },
} as const satisfies Record<CloudDetector, { pkg: string; exports: readonly string[] }>;

export const isCloudDetector = (name: DetectorName): name is CloudDetector => Object.hasOwn(CLOUD_DETECTOR_PACKAGES, name);

/** The one line for a named cloud detector whose package is not installed, at start and in doctor. */
export function missingDetector(name: CloudDetector): string {
  const { pkg } = CLOUD_DETECTOR_PACKAGES[name];
  return `OTEL_NODE_RESOURCE_DETECTORS names ${name} but ${pkg} is not installed, so no ${name} attributes are detected: ${installCommand(pkg)} (or ${AUTO_INSTRUMENTATIONS})`;
}
