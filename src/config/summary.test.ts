import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfig } from './resolve';
import { summarizeConfig } from './summary';

const ENV = {
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_METRICS_EXPORTER: 'otlp,prometheus',
  OTEL_LOGS_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'https://CANARY_USER:CANARY_PASS@collector.example:4318/',
  OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20CANARY_H1,x-tenant=CANARY_H2',
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-extra=CANARY_H3',
  OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'https://CANARY_DSN_KEY@logs.example/v1/logs?token=CANARY_Q&region=eu',
};

function summary() {
  const { config, warnings } = resolveConfig(ENV);
  assert.deepEqual(warnings, []);
  return summarizeConfig(config);
}

describe('summarizeConfig', () => {
  it('never contains a header value, URL username, password or secret query value', () => {
    const json = JSON.stringify(summary());
    assert.ok(!json.includes('CANARY'), json);
  });

  it('shows the header keys of every signal with OTLP, with redacted values', () => {
    const s = summary();
    assert.deepEqual(s.traces.otlp?.headers, { authorization: '[REDACTED]', 'x-tenant': '[REDACTED]' });
    assert.deepEqual(s.metrics.otlp?.headers, { authorization: '[REDACTED]', 'x-tenant': '[REDACTED]', 'x-extra': '[REDACTED]' });
    assert.deepEqual(s.logs.otlp?.headers, { authorization: '[REDACTED]', 'x-tenant': '[REDACTED]' });
  });

  it('shows the endpoints with userinfo and secret query values redacted', () => {
    const s = summary();
    assert.equal(s.traces.otlp?.endpoint, 'https://REDACTED:REDACTED@collector.example:4318/v1/traces');
    assert.equal(s.metrics.otlp?.endpoint, 'https://REDACTED:REDACTED@collector.example:4318/v1/metrics');
    const logs = s.logs.otlp?.endpoint ?? '';
    assert.ok(logs.startsWith('https://REDACTED@logs.example/v1/logs?'), logs);
    assert.ok(logs.includes('region=eu'), logs);
  });

  it('leaves the OTLP section out for a signal not exported over OTLP', () => {
    const s = summarizeConfig(resolveConfig({}).config);
    assert.ok(s.traces.otlp);
    assert.equal(s.metrics.otlp, undefined);
    assert.deepEqual(s.metrics.exporters, ['prometheus']);
  });
});
