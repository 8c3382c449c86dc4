/**
 * Bad input: the agent (collector/otelcol.yaml, DNS resolver) is given a gateway name that does
 * not resolve. It must say so in one clear line, keep trying, keep running and keep the app's
 * traces waiting in its bounded queue; its other pipelines (metrics to the gateway address for
 * them) go on, and the instrumented app serves as before.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type RunningApp } from '../support/app';
import { agentAppEnv, COLLECTOR_DIR, driveFor, nameService, startCollector, telemetryValue, type Collector } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const NAME = 'otel-gateway-headless.observability.svc.cluster.local';

describe('agent given a gateway name that does not resolve', () => {
  let backend: OtlpSink;
  let agent: Collector;
  let app: RunningApp;
  const statuses: number[] = [];

  before(async () => {
    backend = await startOtlpSink();
    const names = nameService([]);
    agent = await startCollector(
      join(COLLECTOR_DIR, 'otelcol.yaml'),
      [],
      {
        OTELCOL_GATEWAY_RESOLVER: 'dns',
        OTELCOL_GATEWAY_DNS_HOSTNAME: NAME,
        OTELCOL_GATEWAY_DNS_INTERVAL: '1s',
        OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      },
      { wrapper: names.wrapper },
    );
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: agentAppEnv('chatbot-no-gateway', agent.otlpHttp),
    });
    await driveFor(app, ['/api/users/1', '/api/db', '/api/cache'], 6000, statuses);
  });

  after(async () => {
    app?.kill();
    await agent?.stop();
    await backend?.close();
  });

  it('says so in one line that names the gateway address, and keeps resolving', async () => {
    const lines = agent.output().split('\n').filter((l) => l.includes('failed to resolve'));
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.ok(lines[0]!.includes(NAME), lines[0]);
    assert.match(lines[0]!, /\twarn\t/);
    const failures = await telemetryValue(agent, 'otelcol_loadbalancer_num_resolutions', { success: 'false' });
    assert.ok(failures >= 4, `${failures} failed resolutions in 6 s at a 1 s interval`);
    assert.doesNotMatch(agent.output(), /panic|goroutine \d+ \[/);
  });

  it('the agent keeps running, with the traces waiting in its bounded queue', async () => {
    assert.equal(agent.proc.exitCode, null);
    const queued = await telemetryValue(agent, 'otelcol_exporter_queue_size', { exporter: 'load_balancing/dns' });
    assert.ok(queued > 0, `${queued} spans queued`);
    assert.equal(await telemetryValue(agent, 'otelcol_exporter_queue_capacity', { exporter: 'load_balancing/dns' }), 50000);
  });

  it('its other pipelines go on: the app’s metrics reach the gateway address for them', async () => {
    await eventually(async () => backend.metrics.some((m) => m.name === 'innatural_chatbot_http_requests_total'), 10000, 'metrics at the backend', () => agent.output().slice(-1500));
  });

  it('the app serves as before and is told nothing is wrong (the agent accepted its spans)', () => {
    assert.equal(app.proc.exitCode, null);
    assert.ok(statuses.length >= 30, `${statuses.length} requests`);
    assert.deepEqual([...new Set(statuses)], [200]);
    assert.deepEqual(app.logLines().filter((l) => l.level === 'warn' || l.level === 'error'), []);
  });
});
