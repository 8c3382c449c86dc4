/**
 * deploy/kubernetes/: every manifest validated offline against the Kubernetes (and Prometheus
 * Operator) schemas; the generated ones equal to what collector/ renders; and the ports, paths,
 * env names and shutdown timing the manifests use are the ones the SDK really reads, taken from
 * its config module and health routes rather than retyped.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { resolveConfig } from '../../src/config/resolve';
import { VARIABLES, type VariableSpec } from '../../src/config/variables';
import { HEALTH_PATHS } from '../../src/ops/routes';
import { REPO } from '../support/app';

const DIR = join(REPO, 'deploy', 'kubernetes');

type Doc = { apiVersion: string; kind: string; metadata: { name: string; annotations?: Record<string, string> }; [k: string]: unknown };
type Validator = new (data: object) => { validate(): void };

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name: string; containerPort: number; hostPort?: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  livenessProbe?: { httpGet: { path: string; port: string } };
  readinessProbe?: { httpGet: { path: string; port: string } };
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector: { matchLabels: Record<string, string> } }>;
  containers: Container[];
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}
type Workload = Doc & { spec: { replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } };
type ServiceDoc = Doc & { spec: { clusterIP?: string; selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> } };

/** The default of a `${env:NAME:-<n>s}` reference in a shipped collector file, in seconds. */
function collectorDefaultSeconds(file: string, name: string): number {
  const m = new RegExp(`\\$\\{env:${name}:-(\\d+)s\\}`).exec(readFileSync(join(REPO, 'collector', file), 'utf8'));
  assert.ok(m, `${file}: ${name}`);
  return Number(m[1]);
}

function manifests(): Map<string, Doc[]> {
  const out = new Map<string, Doc[]>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
    const docs = parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => {
      assert.deepEqual(d.errors, [], file);
      return d.toJS() as Doc;
    });
    out.set(file, docs);
  }
  return out;
}

const all = () => [...manifests().values()].flat();
const find = <T extends Doc>(kind: string, name: string) => {
  const doc = all().find((d) => d.kind === kind && d.metadata.name === name);
  assert.ok(doc, `${kind}/${name}`);
  return doc as T;
};
const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));

describe('deploy/kubernetes', () => {
  let validators: Record<string, Validator>;

  before(async () => {
    // ESM-only packages, loaded the way a CommonJS test can.
    const core = await import('kubernetes-models/v1');
    const apps = await import('kubernetes-models/apps/v1');
    const policy = await import('kubernetes-models/policy/v1');
    const monitoring = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
    validators = {
      'v1/Service': core.Service,
      'v1/ConfigMap': core.ConfigMap,
      'v1/Secret': core.Secret,
      'apps/v1/Deployment': apps.Deployment,
      'apps/v1/DaemonSet': apps.DaemonSet,
      'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
      // Their constructors type their input more narrowly than Validator; the data is untyped YAML anyway.
      'monitoring.coreos.com/v1/ServiceMonitor': monitoring.ServiceMonitor as unknown as Validator,
      'monitoring.coreos.com/v1/PrometheusRule': monitoring.PrometheusRule as unknown as Validator,
    };
  });

  it('every manifest is valid against its schema, and the validation catches a broken one', () => {
    const docs = all();
    assert.ok(docs.length >= 10, `${docs.length} documents`);
    for (const doc of docs) {
      const Model = validators[`${doc.apiVersion}/${doc.kind}`];
      assert.ok(Model, `a schema for ${doc.apiVersion}/${doc.kind}`);
      assert.doesNotThrow(() => new Model(doc).validate(), `${doc.kind}/${doc.metadata.name}`);
    }
    const app = structuredClone(find<Workload>('Deployment', 'innatural-chatbot'));
    (app.spec as Record<string, unknown>).replicas = 'three';
    assert.throws(() => new validators['apps/v1/Deployment']!(app).validate());
  });

  it('the generated manifests are what collector/ renders now (npm run deploy:generate)', () => {
    const { render } = require(join(DIR, 'generate.js')) as { render(): Record<string, string> };
    for (const [file, text] of Object.entries(render())) {
      assert.equal(readFileSync(join(DIR, file), 'utf8'), text, `${file} drifted from collector/`);
    }
    const rule = find<Doc & { spec: { groups: unknown } }>('PrometheusRule', 'innatural-chatbot');
    assert.deepEqual(rule.spec.groups, (parse(readFileSync(join(REPO, 'collector', 'alerts.yml'), 'utf8')) as { groups: unknown }).groups);
  });

  it('kustomization.yaml lists every manifest but the example Secret', () => {
    const k = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    const files = [...manifests().keys()].filter((f) => f !== 'secret.example.yaml').sort();
    assert.deepEqual([...k.resources].sort(), files);
  });

  describe('the app Deployment matches the SDK', () => {
    const app = () => find<Workload>('Deployment', 'innatural-chatbot');
    const container = () => app().spec.template.spec.containers[0]!;
    /** The container's literal env, as the preload would read it. */
    const literalEnv = () => Object.fromEntries([...envOf(container()).values()].filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

    it('loads the preload through NODE_OPTIONS by the package’s exported entry', () => {
      assert.match(envOf(container()).get('NODE_OPTIONS')!.value!, /^--require @innatural\/otel\/register$/);
      const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
      assert.equal(pkg.name, '@innatural/otel');
      assert.ok(pkg.exports['./register']);
    });

    it('uses only variables the SDK reads, with values it accepts', () => {
      const ours = [...envOf(container()).keys()].filter((n) => /^(OTEL|INNATURAL|SENTRY)_/.test(n) || ['DATABASE_URL', 'REDIS_URL', 'OPENAI_API_KEY'].includes(n));
      assert.ok(ours.length >= 10);
      assert.deepEqual(ours.filter((n) => !(n in VARIABLES)), []);
      // $(VAR) references are expanded by the kubelet; give them plausible values.
      const env = Object.fromEntries(Object.entries(literalEnv()).map(([k, v]) => [k, v.replace(/\$\((\w+)\)/g, '10.0.0.1')]));
      const { warnings } = resolveConfig(env);
      assert.deepEqual(warnings, []);
      for (const e of envOf(container()).values()) {
        if (e.valueFrom?.secretKeyRef) assert.equal((VARIABLES as Record<string, VariableSpec>)[e.name]?.secret, true, `${e.name} comes from a Secret and is one`);
      }
    });

    it('probes and scrapes the health server’s port and paths', () => {
      const { config } = resolveConfig(literalEnv());
      const ports = new Map((container().ports ?? []).map((p) => [p.name, p.containerPort]));
      assert.equal(ports.get('health'), config.health.port);
      assert.notEqual(ports.get('http'), config.health.port, 'the app and the health server need different ports');
      assert.notEqual(config.health.host, '127.0.0.1', 'probes and Prometheus come from outside the pod');
      for (const probe of [container().livenessProbe!, container().readinessProbe!]) {
        assert.equal(probe.httpGet.port, 'health');
        assert.ok(HEALTH_PATHS.includes(probe.httpGet.path), probe.httpGet.path);
      }
      assert.equal(container().livenessProbe!.httpGet.path, '/api/health/live');
      assert.equal(container().readinessProbe!.httpGet.path, '/api/health/ready');

      const metrics = find<Doc & { spec: { ports: Array<{ name: string; port: number; targetPort: string }> } }>('Service', 'innatural-chatbot-metrics');
      const a = metrics.metadata.annotations!;
      assert.equal(a['prometheus.io/scrape'], 'true');
      assert.ok(HEALTH_PATHS.includes(a['prometheus.io/path']!));
      assert.equal(a['prometheus.io/path'], '/metrics');
      assert.equal(Number(a['prometheus.io/port']), config.health.port);
      assert.deepEqual(metrics.spec.ports.map((p) => [p.name, p.port, p.targetPort]), [['health', config.health.port, 'health']]);
      const monitor = find<Doc & { spec: { endpoints: Array<{ port: string; path: string }> } }>('ServiceMonitor', 'innatural-chatbot');
      assert.deepEqual(monitor.spec.endpoints.map((e) => [e.port, e.path]), [['health', '/metrics']]);
    });

    it('gives the SDK its flush budget within the grace period, after the preStop pause', () => {
      const { config } = resolveConfig(literalEnv());
      const spec = app().spec.template.spec;
      const preStopMs = (container().lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      assert.ok(preStopMs >= 5000, 'a preStop pause lets endpoints stop routing before SIGTERM');
      const readiness = container().readinessProbe as unknown as { periodSeconds: number; failureThreshold: number };
      assert.ok(readiness.periodSeconds * readiness.failureThreshold * 1000 <= preStopMs, 'readiness can flip within the pause');
      const graceMs = (spec.terminationGracePeriodSeconds ?? 30) * 1000;
      // 5 s at least left for the app's own drain, so the SDK's flush never races SIGKILL.
      assert.ok(graceMs >= preStopMs + config.shutdownTimeoutMs + 5000, `${graceMs} >= ${preStopMs} + ${config.shutdownTimeoutMs} + 5000`);
    });

    it('sends OTLP to the agent on its node, which forwards to the gateway Service', () => {
      const endpoint = new URL(envOf(container()).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value!.replace('$(HOST_IP)', '10.0.0.1'));
      assert.equal(envOf(container()).get('HOST_IP')!.valueFrom!.fieldRef!.fieldPath, 'status.hostIP');
      const agent = find<Workload>('DaemonSet', 'otel-agent').spec.template.spec.containers[0]!;
      const hostPorts = (agent.ports ?? []).filter((p) => p.hostPort).map((p) => p.hostPort);
      assert.ok(hostPorts.includes(Number(endpoint.port)), `agent listens on the node at ${endpoint.port}`);
      const gatewayUrl = new URL(envOf(agent).get('OTELCOL_BACKEND_OTLP_ENDPOINT')!.value!);
      const gateway = find<Doc & { spec: { ports: Array<{ port: number }> } }>('Service', gatewayUrl.hostname);
      assert.ok(gateway.spec.ports.some((p) => p.port === Number(gatewayUrl.port)));
    });
  });

  describe('the gateway tier: replicas behind a headless Service, routed to by trace id', () => {
    const gateway = () => find<Workload>('Deployment', 'otel-gateway');
    const agent = () => find<Workload>('DaemonSet', 'otel-agent').spec.template.spec.containers[0]!;
    const selects = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

    it('runs several replicas, spread over nodes, and a disruption takes one at a time', () => {
      const d = gateway();
      assert.ok((d.spec.replicas ?? 1) >= 3, `${d.spec.replicas} replicas`);
      const pods = d.spec.template.metadata.labels;
      assert.ok(d.spec.template.spec.topologySpreadConstraints!.some((c) => c.topologyKey === 'kubernetes.io/hostname' && selects(c.labelSelector.matchLabels, pods)));
      const pdb = find<Doc & { spec: { maxUnavailable?: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget', 'otel-gateway');
      assert.ok(selects(pdb.spec.selector.matchLabels, pods));
      assert.equal(pdb.spec.maxUnavailable, 1);
    });

    it('the agents resolve the replicas through the headless Service, on its gRPC port', () => {
      const env = envOf(agent());
      assert.equal(env.get('OTELCOL_GATEWAY_RESOLVER')!.value, 'dns');
      const headless = find<ServiceDoc>('Service', env.get('OTELCOL_GATEWAY_DNS_HOSTNAME')!.value!);
      assert.equal(headless.spec.clusterIP, 'None', 'headless: one DNS record per pod');
      assert.ok(selects(headless.spec.selector, gateway().spec.template.metadata.labels));
      const port = headless.spec.ports.find((p) => p.port === Number(env.get('OTELCOL_GATEWAY_PORT')!.value))!;
      const container = gateway().spec.template.spec.containers[0]!;
      assert.equal(container.ports!.find((p) => p.name === port.targetPort)!.containerPort, 4317, 'the OTLP gRPC receiver');
      // Metrics and logs: the normal Service, whose virtual IP spreads them over the replicas.
      const backend = new URL(env.get('OTELCOL_BACKEND_OTLP_ENDPOINT')!.value!);
      assert.notEqual(find<ServiceDoc>('Service', backend.hostname).spec.clusterIP, 'None');
    });

    it('a terminating replica stays until agents stop sending it and its traces are decided', () => {
      const spec = gateway().spec.template.spec;
      const preStop = spec.containers[0]!.lifecycle!.preStop!.sleep!.seconds;
      const decisionWait = collectorDefaultSeconds('gateway.yaml', 'OTELCOL_TAIL_DECISION_WAIT');
      const dnsInterval = collectorDefaultSeconds('otelcol.yaml', 'OTELCOL_GATEWAY_DNS_INTERVAL');
      assert.ok(preStop >= dnsInterval + 5 + decisionWait, `preStop ${preStop} s >= resolver ${dnsInterval} s + DNS TTL 5 s + decision_wait ${decisionWait} s`);
      assert.ok(spec.terminationGracePeriodSeconds! >= preStop + 10, 'time to drain after SIGTERM');
    });

    it('is sized from the measurement: one core requested, memory for the traces tail sampling may hold', () => {
      const c = gateway().spec.template.spec.containers[0]!;
      assert.equal(c.resources!.requests!.cpu, '1');
      const mib = (q: string) => Number(/^(\d+)(Mi|Gi)(B)?$/.exec(q)![1]) * (q.includes('Gi') ? 1024 : 1);
      const limit = mib(c.resources!.limits!.memory!);
      const goMemLimit = mib(envOf(c).get('GOMEMLIMIT')!.value!);
      assert.ok(goMemLimit < limit && goMemLimit >= limit * 0.75, `GOMEMLIMIT ${goMemLimit} MiB under the ${limit} MiB limit`);
      // num_traces is the bound on what waits; up to 10 KB each measured (collector/README.md).
      const numTraces = Number(/num_traces: (\d+)/.exec(readFileSync(join(REPO, 'collector', 'gateway.yaml'), 'utf8'))![1]);
      assert.ok((numTraces * 10) / 1024 < limit * 0.8, `${numTraces} traces fit under memory_limiter`);
    });
  });

  it('each collector mounts its generated ConfigMap and runs the file it holds', () => {
    for (const [kind, name, file] of [['DaemonSet', 'otel-agent', 'otelcol.yaml'], ['Deployment', 'otel-gateway', 'gateway.yaml']] as const) {
      const spec = find<Workload>(kind, name).spec.template.spec;
      const c = spec.containers[0]!;
      const mount = c.volumeMounts!.find((v) => v.name === 'config')!;
      assert.deepEqual(c.args, [`--config=${mount.mountPath}/${file}`]);
      const cm = find<Doc & { data: Record<string, string> }>('ConfigMap', spec.volumes!.find((v) => v.name === 'config')!.configMap!.name);
      assert.equal(cm.data[file], readFileSync(join(REPO, 'collector', file), 'utf8'));
    }
  });
});
