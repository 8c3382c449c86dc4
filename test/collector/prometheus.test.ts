/**
 * A real Prometheus (Debian's package) with collector/prometheus.yml as shipped (only target
 * addresses and intervals changed for the test), scraping an instrumented app and the agent
 * collector: every PromQL expression of alerts.yml and of the Grafana dashboard must run on the
 * live server, and return data where the app has produced it. Prometheus runs with exemplar storage and
 * the app traces to an OTLP sink, so the dashboard's exemplar queries return the app's trace ids.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { healthUrl, sinkEnv, startApp, type RunningApp } from '../support/app';
import { COLLECTOR_DIR, startCollector, startPrometheus, type Collector, type Prometheus } from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { alertExprs, evaluatedRules, withoutThreshold } from '../support/alerts';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const hostPort = (url: string) => new URL(url).host;

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string; exemplar?: boolean }>;
}

/** What Grafana substitutes before it sends a query: every job, a one-minute rate window. */
const grafanaExpr = (expr: string) => expr.replaceAll('$job', '.*').replaceAll('$__rate_interval', '1m');

describe('Prometheus with collector/prometheus.yml and alerts.yml, scraping a live app', () => {
  let ai: OpenAiServer;
  let sink: OtlpSink;
  let app: RunningApp;
  let collector: Collector;
  let prom: Prometheus;
  let traffic: NodeJS.Timeout | undefined;

  before(async () => {
    ai = await startOpenAiServer();
    sink = await startOtlpSink();
    app = await startApp({
      fixture: 'chatbot-app.js',
      // Traced, so /metrics carries exemplars; metrics scraped as the seed does.
      env: sinkEnv(sink, {
        OTEL_METRICS_EXPORTER: 'prometheus',
        FIXTURE_OPENAI_URL: ai.url,
        OTEL_LOGS_EXPORTER: 'none',
        DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: 'redis://127.0.0.1:6379',
      }),
    });
    const health = await healthUrl(app);
    collector = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [], { OTELCOL_BACKEND_OTLP_ENDPOINT: 'http://127.0.0.1:9' });

    const shipped = readFileSync(join(COLLECTOR_DIR, 'prometheus.yml'), 'utf8');
    const config = shipped
      .replace(/(scrape_interval|evaluation_interval): 15s/g, '$1: 1s')
      .replace("'localhost:9464'", `'${hostPort(health)}'`)
      .replace("'localhost:8889'", `'${hostPort(collector.prometheus)}'`)
      .replace("'localhost:8888'", `'${hostPort(collector.telemetry)}'`);
    assert.notEqual(config, shipped);
    prom = await startPrometheus(config, ['--enable-feature=exemplar-storage']);

    const post = (path: string, body: unknown) =>
      app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.arrayBuffer());
    const drive = async () => {
      await Promise.all([
        app.get('/api/users/1').then((r) => r.arrayBuffer()),
        post('/api/chat', { message: 'salut', language: 'fr' }),
        post('/api/sessions', { count: 3 }),
        app.get('/api/db').then((r) => r.arrayBuffer()),
        app.get('/api/cache').then((r) => r.arrayBuffer()),
        app.get('/api/fail').then((r) => r.arrayBuffer()),
      ]);
    };
    await drive();
    traffic = setInterval(() => void drive().catch(() => {}), 200);
    // Rates need two scrapes that saw traffic.
    await eventually(
      async () => (await prom.query('sum(rate(innatural_chatbot_http_requests_total[1m])) > 0')).length > 0,
      30000,
      'a request rate in Prometheus',
      prom.output,
    );
  });

  after(async () => {
    clearInterval(traffic);
    await prom?.stop();
    await collector?.stop();
    app?.kill();
    await ai?.close();
    await sink?.close();
  });

  it('scrapes every target of the shipped configuration', async () => {
    const up = await prom.query('up');
    const byJob = Object.fromEntries(up.map((r) => [r.metric.job, r.value[1]]));
    assert.deepEqual(byJob, { 'innatural-chatbot': '1', 'otelcol-exporter': '1', otelcol: '1' });
  });

  it('loads all alerting rules and evaluates them without error', async () => {
    const rules = await evaluatedRules(prom);
    assert.equal(rules.length, 8);
    assert.deepEqual(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`), []);
  });

  it('every alert expression runs, and the series each one watches exist for the live app', async () => {
    const exprs = alertExprs();
    assert.equal(exprs.length, 8);
    const empty: string[] = [];
    for (const { alert, expr } of exprs) {
      await prom.query(expr); // throws on an invalid expression
      if ((await prom.query(withoutThreshold(expr))).length === 0) empty.push(alert);
    }
    assert.deepEqual(empty, []);
  });

  it('every Grafana panel query runs and returns data for the live app', async () => {
    const dash = JSON.parse(readFileSync(join(COLLECTOR_DIR, 'grafana', 'innatural-chatbot.json'), 'utf8')) as { panels: Panel[] };
    const empty: string[] = [];
    let queries = 0;
    for (const panel of dash.panels.filter((p) => p.type !== 'row')) {
      for (const target of panel.targets ?? []) {
        queries++;
        const result = await prom.query(grafanaExpr(target.expr));
        if (result.length === 0) empty.push(`${panel.title}: ${target.expr}`);
      }
    }
    assert.ok(queries >= 20, `${queries} queries`);
    assert.deepEqual(empty, []);
  });

  it('every Grafana target with exemplars on gets exemplars whose trace_id is a span the app exported', async () => {
    const dash = JSON.parse(readFileSync(join(COLLECTOR_DIR, 'grafana', 'innatural-chatbot.json'), 'utf8')) as { panels: Panel[] };
    const targets = dash.panels.flatMap((p) => (p.targets ?? []).filter((t) => t.exemplar).map((t) => ({ title: p.title, expr: grafanaExpr(t.expr) })));
    assert.equal(targets.length, 5);
    for (const { title, expr } of targets) {
      // What Grafana asks for beside the panel query: the exemplars of the series it selects.
      const traceIds = await eventually(
        async () => {
          const end = Date.now() / 1000;
          const res = await fetch(`${prom.url}/api/v1/query_exemplars?query=${encodeURIComponent(expr)}&start=${end - 600}&end=${end}`);
          const body = (await res.json()) as { status: string; error?: string; data: Array<{ exemplars: Array<{ labels: Record<string, string> }> }> };
          assert.equal(body.status, 'success', body.error);
          const ids = body.data.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id ?? ''));
          return ids.length > 0 && ids;
        },
        20000,
        `exemplars for ${title}`,
        prom.output,
      );
      for (const id of traceIds) assert.match(id, /^[0-9a-f]{32}$/, `${title}: ${id}`);
      // The exporter batches every 50 ms: a trace scraped a moment ago may still be on its way.
      await sink.waitFor(() => {
        const exported = new Set(sink.spans.map((s) => s.traceId));
        return traceIds.every((id) => exported.has(id));
      }, 10000);
    }
  });
});
