#!/usr/bin/env node
'use strict';
/**
 * Writes the manifests derived from collector/: one source of truth for the collector
 * configurations and the alerting rules. `npm run deploy:generate`; a test fails when the
 * committed files differ from what this renders.
 */
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');

const COLLECTOR = path.join(__dirname, '..', '..', 'collector');
const HEADER = '# Generated from collector/%s by deploy/kubernetes/generate.js (npm run deploy:generate). Do not edit.\n';

function configMap(name, app, file) {
  const doc = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, labels: { app } },
    data: { [file]: fs.readFileSync(path.join(COLLECTOR, file), 'utf8') },
  };
  return HEADER.replace('%s', file) + YAML.stringify(doc, { lineWidth: 0 });
}

function prometheusRule() {
  const alerts = YAML.parse(fs.readFileSync(path.join(COLLECTOR, 'alerts.yml'), 'utf8'));
  const doc = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'innatural-chatbot', labels: { app: 'innatural-chatbot' } },
    spec: { groups: alerts.groups },
  };
  return HEADER.replace('%s', 'alerts.yml') + YAML.stringify(doc, { lineWidth: 0 });
}

/** The default of a `${env:NAME:-default}` reference in a collector file, in seconds. */
function envDefaultSeconds(file, name) {
  const text = fs.readFileSync(path.join(COLLECTOR, file), 'utf8');
  const m = new RegExp(`\\$\\{env:${name}:-(\\d+)s\\}`).exec(text);
  if (!m) throw new Error(`collector/${file}: no \${env:${name}:-<seconds>s}`);
  return Number(m[1]);
}

/**
 * The gateway tier: sized from the measurement in collector/README.md ("Sizing"), timed from
 * the collector files, so a change there changes this manifest (and the drift test says so).
 */
const GATEWAY = {
  replicas: 3,
  // One gateway core took about 50,000 spans/s (collector/measure-gateway.js).
  cpu: '1',
  // tail_sampling holds at most num_traces (100,000) traces; up to 10 KB each for four-span
  // traces measured, so ~1 GB at the bound, under GOMEMLIMIT and memory_limiter's 80% of the limit.
  memoryRequest: '1Gi',
  memoryLimit: '2Gi',
  goMemLimit: '1600MiB',
  // What Kubernetes' DNS keeps answering with a pod that has gone: CoreDNS's TTL for Service records.
  clusterDnsTtlSeconds: 5,
};

function gatewayTier() {
  const decisionWait = envDefaultSeconds('gateway.yaml', 'OTELCOL_TAIL_DECISION_WAIT');
  const dnsInterval = envDefaultSeconds('otelcol.yaml', 'OTELCOL_GATEWAY_DNS_INTERVAL');
  // A terminating pod leaves the headless Service at once; agents stop sending it new traces within
  // their resolver interval plus the DNS TTL; it decides the traces it holds within decision_wait
  // and sends them within a batch (1 s). Only then SIGTERM: a rolling update loses no trace.
  const preStop = dnsInterval + GATEWAY.clusterDnsTtlSeconds + decisionWait + 1;
  // After SIGTERM: the exporters' queues drain (otlp_http timeout 10 s, remote write 10 s).
  const grace = preStop + 15;
  const labels = { app: 'otel-gateway' };
  const ports = [
    { name: 'otlp-grpc', port: 4317, targetPort: 'otlp-grpc' },
    { name: 'otlp-http', port: 4318, targetPort: 'otlp-http' },
  ];
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'otel-gateway', labels },
    spec: {
      replicas: GATEWAY.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8888' } },
        spec: {
          terminationGracePeriodSeconds: grace,
          // Replicas on different nodes, where there are several: one node going away takes one replica.
          topologySpreadConstraints: [
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
          ],
          containers: [
            {
              name: 'otelcol',
              image: 'otel/opentelemetry-collector-contrib:0.161.0',
              args: ['--config=/conf/gateway.yaml'],
              env: [
                { name: 'OTELCOL_BACKEND_OTLP_ENDPOINT', value: 'http://tempo:4318' },
                { name: 'OTELCOL_REMOTE_WRITE_ENDPOINT', value: 'http://prometheus:9090/api/v1/write' },
                { name: 'OTELCOL_SAMPLING_PERCENTAGE', value: '10' },
                { name: 'GOMEMLIMIT', value: GATEWAY.goMemLimit },
              ],
              ports: [
                { name: 'otlp-grpc', containerPort: 4317 },
                { name: 'otlp-http', containerPort: 4318 },
                { name: 'telemetry', containerPort: 8888 },
                { name: 'health', containerPort: 13133 },
              ],
              livenessProbe: { httpGet: { path: '/', port: 'health' } },
              readinessProbe: { httpGet: { path: '/', port: 'health' } },
              lifecycle: { preStop: { sleep: { seconds: preStop } } },
              resources: {
                requests: { cpu: GATEWAY.cpu, memory: GATEWAY.memoryRequest },
                limits: { memory: GATEWAY.memoryLimit },
              },
              volumeMounts: [{ name: 'config', mountPath: '/conf' }],
            },
          ],
          volumes: [{ name: 'config', configMap: { name: 'otel-gateway-config' } }],
        },
      },
    },
  };
  // The agents' load_balancing DNS resolver: one A record per ready gateway pod.
  const headless = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'otel-gateway-headless', labels },
    spec: { clusterIP: 'None', selector: labels, ports: [ports[0]] },
  };
  // Metrics and logs need no routing: any replica, through the usual virtual IP.
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'otel-gateway', labels },
    spec: { selector: labels, ports },
  };
  // Voluntary disruptions (drains, upgrades) take one replica at a time.
  const pdb = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'otel-gateway', labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: labels } },
  };
  const header = [
    '# Generated by deploy/kubernetes/generate.js (npm run deploy:generate) from its sizing and the timing in collector/. Do not edit.',
    `# The gateway tier: ${GATEWAY.replicas} replicas of collector/gateway.yaml (mounted from collector-gateway-config.yaml).`,
    '# Agents route each trace by trace id to one replica, found through otel-gateway-headless;',
    '# metrics and logs go through otel-gateway. Sizing and failure behaviour: collector/README.md.',
    `# A terminating replica waits ${preStop} s (preStop) for agents to stop sending it traces and for the`,
    '# traces it holds to be decided, then drains; a killed one loses the traces it held (docs/reliability.md).',
    '',
  ].join('\n');
  return header + [deployment, headless, service, pdb].map((d) => YAML.stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}

/** File name → content, for every generated manifest. */
function render() {
  return {
    'collector-agent-config.yaml': configMap('otel-agent-config', 'otel-agent', 'otelcol.yaml'),
    'collector-gateway-config.yaml': configMap('otel-gateway-config', 'otel-gateway', 'gateway.yaml'),
    'collector-gateway.yaml': gatewayTier(),
    'prometheusrule.yaml': prometheusRule(),
  };
}

module.exports = { render };

if (require.main === module) {
  for (const [file, text] of Object.entries(render())) {
    fs.writeFileSync(path.join(__dirname, file), text);
    console.log(`wrote deploy/kubernetes/${file}`);
  }
}
