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

/** File name → content, for every generated manifest. */
function render() {
  return {
    'collector-agent-config.yaml': configMap('otel-agent-config', 'otel-agent', 'otelcol.yaml'),
    'collector-gateway-config.yaml': configMap('otel-gateway-config', 'otel-gateway', 'gateway.yaml'),
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
