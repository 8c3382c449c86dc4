/**
 * Metrics to long-term storage: the instrumented app pushes OTLP to the agent, the agent sends
 * metrics on to the gateway, the gateway (collector/gateway.yaml) remote-writes them, with the span
 * metrics it derives, into a real Prometheus (Debian's, --web.enable-remote-write-receiver) that
 * loads collector/alerts.yml. The documented innatural_chatbot_* series must arrive with exactly
 * their labels, and Prometheus' rule engine must evaluate the alerts on them there.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { catalogSpec, LATENCY_BUCKETS, type CatalogKey } from '../../src/metrics/catalog';
import { startApp, type RunningApp } from '../support/app';
import { agentAppEnv, COLLECTOR_DIR, startCollector, startGateways, startPrometheus, type Collector, type Gateway, type Prometheus } from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { alertExprs, evaluatedRules, withoutThreshold } from '../support/alerts';
import { eventually } from '../support/wait';

const P = 'innatural_chatbot';
const JOB = 'chatbot-remote-write';

/** Prometheus with the shipped rules and no scrape target: everything it holds came by remote write. */
const PROMETHEUS_CONFIG = ['global:', '  evaluation_interval: 1s', 'rule_files:', '  - alerts.yml', ''].join('\n');

describe('gateway → Prometheus remote write (collector/gateway.yaml), alerts evaluated there', () => {
  let ai: OpenAiServer;
  let backend: OtlpSink;
  let prom: Prometheus;
  let gateway: Gateway;
  let agent: Collector;
  let app: RunningApp;
  let traffic: NodeJS.Timeout | undefined;

  before(async () => {
    ai = await startOpenAiServer();
    backend = await startOtlpSink();
    prom = await startPrometheus(PROMETHEUS_CONFIG, ['--web.enable-remote-write-receiver']);
    [gateway] = await startGateways(1, {
      OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      OTELCOL_REMOTE_WRITE_ENDPOINT: `${prom.url}/api/v1/write`,
      OTELCOL_SPAN_METRICS_FLUSH_INTERVAL: '500ms',
      OTELCOL_TAIL_DECISION_WAIT: '1s',
    });
    agent = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [], {
      OTELCOL_GATEWAY_ENDPOINTS: gateway!.otlpGrpc,
      OTELCOL_BACKEND_OTLP_ENDPOINT: gateway!.otlpHttp,
    });
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: agentAppEnv(JOB, agent.otlpHttp, { FIXTURE_OPENAI_URL: ai.url }),
    });
    const post = (path: string, body: unknown) =>
      app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
    // A fifth of the requests fail with 500: High5xxRatio's condition holds.
    const drive = async () => {
      await Promise.all([
        app.get('/api/users/1').then((r) => r.arrayBuffer()),
        post('/api/chat', { message: 'salut', language: 'fr' }),
        app.get('/api/db').then((r) => r.arrayBuffer()),
        app.get('/api/cache').then((r) => r.arrayBuffer()),
        app.get('/api/fail').then((r) => r.arrayBuffer()),
      ]);
    };
    await drive();
    traffic = setInterval(() => void drive().catch(() => {}), 250);
    await eventually(
      async () => (await prom.query(`sum(rate(${P}_http_requests_total{job="${JOB}"}[1m])) > 0`)).length > 0,
      30000,
      'a request rate from remote-written series',
      () => `${gateway!.output().slice(-1500)}\n${prom.output().slice(-1000)}`,
    );
  });

  after(async () => {
    clearInterval(traffic);
    app?.kill();
    await agent?.stop();
    await gateway?.stop();
    await prom?.stop();
    await backend?.close();
    await ai?.close();
  });

  it('the documented series arrive with their names and exactly their labels, plus job and instance', async () => {
    const moved: CatalogKey[] = ['httpRequestDuration', 'httpRequests', 'messages', 'aiRequestDuration', 'aiTokens', 'dbQueryDuration', 'redisOperations', 'errors'];
    for (const key of moved) {
      const spec = catalogSpec(key, P);
      const name = spec.type === 'histogram' ? `${spec.name}_count` : spec.name;
      const series = await prom.query(`${name}{job="${JOB}"}`);
      assert.ok(series.length > 0, `${name} arrived`);
      for (const s of series) {
        const labels = Object.keys(s.metric).filter((k) => !['__name__', 'job', 'instance'].includes(k)).sort();
        assert.deepEqual(labels, [...spec.labels].sort(), `${name} labels`);
        assert.ok(s.metric.instance, `${name} has an instance`);
      }
    }
    const users = await prom.query(`${P}_http_requests_total{job="${JOB}",method="GET",route="/api/users/:id",status_code="200"}`);
    assert.equal(users.length, 1);
    const bounds = (await prom.query(`${P}_http_request_duration_seconds_bucket{job="${JOB}",route="/api/users/:id"}`)).map((s) => s.metric.le);
    assert.deepEqual([...new Set(bounds)].sort(), [...LATENCY_BUCKETS.map(String), '+Inf'].sort());
    // No suffix doubled, no scope labels, nothing renamed.
    const names = (await (await fetch(`${prom.url}/api/v1/label/__name__/values`)).json()) as { data: string[] };
    assert.deepEqual(names.data.filter((n) => /_total_total|_seconds_seconds/.test(n)), []);
    assert.deepEqual(await prom.query(`{job="${JOB}", otel_scope_name!=""}`), []);
  });

  it('the gateway’s span metrics arrive per service and operation, one series set per replica', async () => {
    const calls = await eventually(
      async () => {
        const r = await prom.query(`traces_span_metrics_calls_total{job="${JOB}", span_kind="SPAN_KIND_SERVER"}`);
        return r.length > 0 && r;
      },
      15000,
      'span metrics',
      () => gateway.output().slice(-1500),
    );
    for (const s of calls) {
      assert.deepEqual(Object.keys(s.metric).sort(), ['__name__', 'collector_instance_id', 'instance', 'job', 'service_name', 'span_kind', 'span_name', 'status_code']);
    }
    assert.ok(calls.some((s) => s.metric.status_code === 'STATUS_CODE_ERROR'), 'the failing route counted as errors');
    const duration = await prom.query(`traces_span_metrics_duration_seconds_bucket{job="${JOB}"}`);
    assert.ok(duration.length > 0, 'span durations');
  });

  it('every alert evaluates there without error, and the series each watches arrived (but up, which only a scrape makes)', async () => {
    const rules = await evaluatedRules(prom);
    assert.equal(rules.length, 8);
    assert.deepEqual(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`), []);
    // Rates need two samples of each series: they arrive within a few seconds of each other.
    let empty: string[] = [];
    await eventually(
      async () => {
        empty = [];
        for (const { alert, expr } of alertExprs()) {
          await prom.query(expr); // throws on an invalid expression
          if ((await prom.query(withoutThreshold(expr))).length === 0) empty.push(alert);
        }
        return empty.length === 1;
      },
      15000,
      'the series every alert watches',
      () => empty.join(', '),
    );
    assert.deepEqual(empty, ['ServiceDown']);
  });

  it('High5xxRatio’s condition holds on the remote-written series: Prometheus has it pending', async () => {
    const alert = await eventually(
      async () => {
        const body = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string>; state: string; value: string }> } };
        return body.data.alerts.find((a) => a.labels.alertname === 'High5xxRatio' && a.labels.job === JOB);
      },
      10000,
      'High5xxRatio pending',
      prom.output,
    );
    assert.equal(alert.state, 'pending');
    assert.ok(Number(alert.value) > 0.05, alert.value);
    const others = (await (await fetch(`${prom.url}/api/v1/alerts`)).json()) as { data: { alerts: Array<{ labels: Record<string, string> }> } };
    assert.deepEqual([...new Set(others.data.alerts.map((a) => a.labels.alertname))], ['High5xxRatio'], 'nothing else holds for a healthy app');
  });
});
