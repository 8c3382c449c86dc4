import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { CLOUD_DETECTORS, DetectorName } from './config/resolve';

/**
 * Packages we do not ship, which the user installs beside the app when they want what they
 * bring, as they install pg: Sentry's SDKs (optional peers: every install would otherwise
 * carry ~70 MB that load only with SENTRY_DSN), and the instrumentations and cloud resource
 * detectors outside the chatbot stack, one by one or all at once through
 * auto-instrumentations-node. The ranges are package.json's peerDependencies (a test holds
 * them equal).
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

/** Carries every contrib instrumentation and resource detector, each as a dependency of its own. */
export const AUTO_INSTRUMENTATIONS = '@opentelemetry/auto-instrumentations-node';

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

function resolveFrom(from: string, pkg: string): string | undefined {
  try {
    return createRequire(from).resolve(pkg);
  } catch {
    return undefined;
  }
}

/** A file that need not exist: resolution starts from its folder, as the app's own require does. */
const inDir = (dir: string) => join(dir, '__innatural_otel__.js');

/**
 * Where `pkg` resolves, loading nothing; undefined when it is not installed. Looked for beside
 * us first (hoisted next to our package, as npm installs the app's packages and peers), then
 * from the app's folders (our package may live elsewhere: NODE_PATH, a global install, a
 * linked checkout), then inside an auto-instrumentations-node found either way (npm nests its
 * dependencies there when their versions conflict with the app's).
 */
export function resolveOptional(pkg: string, searchDirs: readonly string[], self: string = __filename): string | undefined {
  const places = [self, ...searchDirs.map(inDir)];
  for (const from of places) {
    const found = resolveFrom(from, pkg);
    if (found) return found;
  }
  if (pkg === AUTO_INSTRUMENTATIONS) return undefined;
  for (const from of places) {
    const auto = resolveFrom(from, AUTO_INSTRUMENTATIONS);
    const found = auto && resolveFrom(auto, pkg);
    if (found) return found;
  }
  return undefined;
}

/** The package's exports, or undefined when it is not installed; a package that fails to load throws. */
export function requireOptional<T>(pkg: string, searchDirs: readonly string[]): T | undefined {
  const path = resolveOptional(pkg, searchDirs);
  return path === undefined ? undefined : (require(path) as T);
}
