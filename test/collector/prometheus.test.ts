/**
 * A real Prometheus (Debian's package) with collector/prometheus.yml as shipped (only target
 * addresses and intervals changed for the test), scraping an instrumented app and the agent
 * collector: every PromQL expression of alerts.yml and of the Grafana dashboard must run on the
 * live server, and return data where the app has produced it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { healthUrl, metricsOnlyEnv, startApp, type RunningApp } from '../support/app';
import { COLLECTOR_DIR, startCollector, startPrometheus, type Collector, type Prometheus } from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { alertExprs, evaluatedRules, withoutThreshold } from '../support/alerts';
import { eventually } from '../support/wait';

const hostPort = (url: string) => new URL(url).host;

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
}

/** What Grafana substitutes before it sends a query: every job, a one-minute rate window. */
const grafanaExpr = (expr: string) => expr.replaceAll('$job', '.*').replaceAll('$__rate_interval', '1m');

describe('Prometheus with collector/prometheus.yml and alerts.yml, scraping a live app', () => {
  let ai: OpenAiServer;
  let app: RunningApp;
  let collector: Collector;
  let prom: Prometheus;
  let traffic: NodeJS.Timeout | undefined;

  before(async () => {
    ai = await startOpenAiServer();
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: metricsOnlyEnv({
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
    prom = await startPrometheus(config);

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
});
