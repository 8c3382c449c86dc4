/**
 * Bad input: the gateway (collector/gateway.yaml) remote-writes to a Prometheus that refuses
 * remote write (a real one, started without --web.enable-remote-write-receiver: it answers 404).
 * The gateway must say so in one clear line naming the endpoint and the cause, count what it
 * drops, and go on: traces still reach the tracing backend; the agent and the app run on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type RunningApp } from '../support/app';
import { agentAppEnv, COLLECTOR_DIR, driveFor, startCollector, startGateways, startPrometheus, telemetryValue, type Collector, type Gateway, type Prometheus } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

describe('gateway remote-writing to a Prometheus that refuses it', () => {
  let backend: OtlpSink;
  let prom: Prometheus;
  let gateway: Gateway;
  let agent: Collector;
  let app: RunningApp;
  let endpoint: string;
  const statuses: number[] = [];

  before(async () => {
    backend = await startOtlpSink();
    prom = await startPrometheus('global:\n  evaluation_interval: 15s\n');
    endpoint = `${prom.url}/api/v1/write`;
    [gateway] = await startGateways(1, {
      OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      OTELCOL_REMOTE_WRITE_ENDPOINT: endpoint,
      OTELCOL_SAMPLING_PERCENTAGE: '100',
      OTELCOL_TAIL_DECISION_WAIT: '1s',
      OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '500ms',
    });
    agent = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [], {
      OTELCOL_GATEWAY_ENDPOINTS: gateway!.otlpGrpc,
      OTELCOL_BACKEND_OTLP_ENDPOINT: gateway!.otlpHttp,
    });
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: agentAppEnv('chatbot-refused', agent.otlpHttp),
    });
    await driveFor(app, ['/api/users/1', '/api/db'], 6000, statuses);
  });

  after(async () => {
    app?.kill();
    await agent?.stop();
    await gateway?.stop();
    await prom?.stop();
    await backend?.close();
  });

  it('says so in one line naming the endpoint and the cause, and one line for what it dropped', () => {
    const errors = gateway.output().split('\n').filter((l) => /\terror\t/.test(l));
    const refused = errors.filter((l) => l.includes('failed to send WriteRequest'));
    assert.equal(refused.length, 1, errors.join('\n'));
    assert.ok(refused[0]!.includes(endpoint), refused[0]);
    assert.match(refused[0]!, /"status_code": 404/);
    assert.match(refused[0]!, /remote write receiver needs to be enabled/);
    assert.equal(errors.filter((l) => l.includes('Exporting failed. Dropping data.')).length, 1);
    assert.equal(errors.length, 2, errors.join('\n'));
    assert.doesNotMatch(gateway.output(), /panic|goroutine \d+ \[|\.go:\d+\n/);
  });

  it('counts every data point it could not write', async () => {
    const failed = await telemetryValue(gateway, 'otelcol_exporter_send_failed_metric_points', { exporter: 'prometheus_remote_write' });
    assert.ok(failed > 100, `${failed} points counted as failed`);
  });

  it('goes on: traces still reach the tracing backend', async () => {
    await eventually(async () => backend.spans.some((s) => s.resource['service.name'] === 'chatbot-refused'), 10000, 'spans at the backend', () => gateway.output().slice(-1500));
  });

  it('the gateway, the agent and the app run on; the app serves as before', () => {
    assert.equal(gateway.proc.exitCode, null);
    assert.equal(agent.proc.exitCode, null);
    assert.equal(app.proc.exitCode, null);
    assert.ok(statuses.length >= 20, `${statuses.length} requests`);
    assert.deepEqual([...new Set(statuses)], [200]);
  });
});
