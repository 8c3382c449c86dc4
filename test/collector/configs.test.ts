/**
 * Every file shipped in collector/, checked by the real tools that will read it: the collector
 * built from builder-config.yaml validates its configurations, promtool checks the Prometheus
 * configuration and rules and runs the alert unit tests; the Grafana dashboard is checked
 * for what an import needs. The build itself is checked to be cached.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { Redactor } from '../../src/redaction/policy';
import { REPO } from '../support/app';
import { COLLECTOR_DIR, collectorBinary, tempDir, validateConfig } from '../support/collector';

const read = (name: string) => readFileSync(join(COLLECTOR_DIR, name), 'utf8');

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: COLLECTOR_DIR, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** The redaction processor's block, comments dropped: the part both collector files must share. */
function redactionBlock(yaml: string): string {
  const start = yaml.indexOf('\n  redaction:\n');
  assert.ok(start >= 0, 'a redaction processor');
  const rest = yaml.slice(start + 1).split('\n');
  const block = [rest[0]!];
  for (const line of rest.slice(1)) {
    if (/^ {0,2}\S/.test(line)) break;
    if (line.trim() !== '' && !line.trim().startsWith('#')) block.push(line);
  }
  return block.join('\n');
}

/** RE2 patterns as the collector reads them; these use only syntax JavaScript shares. */
function collectorKeyPatterns(yaml: string): RegExp[] {
  const block = redactionBlock(yaml);
  const list = block.slice(block.indexOf('blocked_key_patterns:'), block.indexOf('blocked_values:'));
  return [...list.matchAll(/^\s+- (.+)$/gm)].map((m) => new RegExp(m[1]!.replace(/^\(\?i\)/, ''), 'i'));
}

describe('collector/ as shipped', () => {
  it('otelcol validate accepts otelcol.yaml and gateway.yaml, and refuses a broken one', () => {
    for (const file of ['otelcol.yaml', 'gateway.yaml']) {
      const r = validateConfig(join(COLLECTOR_DIR, file));
      assert.equal(r.status, 0, `${file}: ${r.output}`);
    }
    const broken = join(tempDir('validate'), 'broken.yaml');
    writeFileSync(broken, read('otelcol.yaml').replace('exporters: [span_metrics]', 'exporters: [spanmetrics_typo]'));
    const r = validateConfig(broken);
    assert.notEqual(r.status, 0);
    assert.match(r.output, /spanmetrics_typo/);
  });

  it('the agent routes traces with either resolver the environment picks, and names a wrong pick', () => {
    for (const resolver of ['dns', 'static']) {
      const r = validateConfig(join(COLLECTOR_DIR, 'otelcol.yaml'), { OTELCOL_GATEWAY_RESOLVER: resolver });
      assert.equal(r.status, 0, `${resolver}: ${r.output}`);
    }
    const wrong = validateConfig(join(COLLECTOR_DIR, 'otelcol.yaml'), { OTELCOL_GATEWAY_RESOLVER: 'consul' });
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.output, /load_balancing\/consul/);
    const agent = read('otelcol.yaml');
    assert.equal([...agent.matchAll(/^ {4}routing_key: traceID$/gm)].length, 1, 'one routing key, shared by both resolvers (merge key)');
    assert.match(agent, /^ {2}load_balancing\/static:\n {4}<<: \*load-balancing$/m);
  });

  it('the distribution pins every component to one release, with the replace the module proxy needs and why', () => {
    const manifest = read('builder-config.yaml');
    const mods = [...manifest.matchAll(/- gomod: (\S+) (v\S+)/g)];
    assert.ok(mods.length >= 15);
    assert.deepEqual([...new Set(mods.map((m) => m[2]))], ['v0.161.0']);
    for (const m of ['exporter/loadbalancingexporter', 'exporter/prometheusremotewriteexporter']) {
      assert.ok(mods.some((x) => x[1]!.endsWith(m)), m);
    }
    const replaces = /\n((?:#.*\n)+)replaces:\n((?: {2}- .*\n)+)/.exec(manifest);
    assert.ok(replaces, 'a replaces block with a comment above it');
    assert.match(replaces[1]!, /servicediscovery v1\.48\.0[\s\S]*refuses/);
    assert.equal(replaces[2]!.trim(), '- github.com/aws/aws-sdk-go-v2/service/servicediscovery => github.com/aws/aws-sdk-go-v2/service/servicediscovery v1.40.2');
    for (const text of [manifest, read('README.md')]) assert.doesNotMatch(text, /not served/);
  });

  it('agent and gateway redact with the same rules', () => {
    assert.equal(redactionBlock(read('gateway.yaml')), redactionBlock(read('otelcol.yaml')));
  });

  it('the collector’s secret keys are the SDK’s (src/redaction/policy.ts), key by key', () => {
    const patterns = collectorKeyPatterns(read('otelcol.yaml'));
    const sdk = new Redactor();
    const keys = [
      'password', 'db.password', 'user_pwd', 'passwd', 'client_secret', 'access_token', 'refresh_token', 'x-auth-token', 'api_key',
      'x-api-key', 'apikey', 'private_key', 'session_id', 'enduser.session_token', 'aws.credentials', 'authorization',
      'http.request.header.authorization', 'auth', 'signature', 'credit_card', 'card_number', 'cc_num', 'cookie',
      'http.request.header.cookie', 'http.response.header.set-cookie', 'proxy-authorization', 'auth.method', 'x-access-key',
      'http.request.header.x-access-key', 'passphrase', 'cvv', 'user.pin', 'otp', 'jwt', 'oauth_verifier', 'authentication', 'phpsessid',
      // not secret
      'gen_ai.usage.input_tokens', 'gen_ai.request.max_tokens', 'http.route', 'http.request.method', 'url.full', 'author',
      'db.system', 'service.name', 'message', 'messaging.kafka.message.key', 'pinned_at', ':authority', 'monkey',
    ];
    const disagree = keys.filter((k) => patterns.some((re) => re.test(k)) !== sdk.isSecretAttribute(k));
    assert.deepEqual(disagree, []);
  });

  it('promtool checks prometheus.yml and alerts.yml', () => {
    const config = promtool('check', 'config', 'prometheus.yml');
    assert.equal(config.status, 0, config.output);
    const rules = promtool('check', 'rules', 'alerts.yml');
    assert.equal(rules.status, 0, rules.output);
    assert.match(rules.output, /SUCCESS: 8 rules found/);
  });

  it('promtool test rules passes, with every alert both firing and silent', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    assert.equal(r.status, 0, r.output);
    const alerts = [...read('alerts.yml').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    assert.deepEqual(alerts, ['HighErrorRate', 'HighLatency', 'ServiceDown', 'HighMemoryUsage', 'ReadinessFailing', 'EventLoopLag', 'AIHighLatency', 'High5xxRatio']);
    const cases = [...read('alerts.test.yml').matchAll(/alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)];
    for (const alert of alerts) {
      assert.ok(cases.some((m) => m[1] === alert && m[2] === undefined), `${alert} has a firing case`);
      assert.ok(cases.some((m) => m[1] === alert && m[2] === ' []'), `${alert} has a silent case`);
    }
  });

  it('the Grafana dashboard imports with its datasource as a variable and has the panels users expect', () => {
    interface Panel {
      type: string;
      title: string;
      datasource?: { uid?: string };
      targets?: Array<{ expr: string; datasource?: { uid?: string } }>;
    }
    const dash = JSON.parse(read('grafana/innatural-chatbot.json')) as {
      uid: string;
      title: string;
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
      panels: Panel[];
    };
    assert.equal(dash.uid, 'innatural-chatbot');
    const ds = dash.templating.list.find((v) => v.name === 'datasource');
    assert.deepEqual([ds?.type, ds?.query], ['datasource', 'prometheus']);
    const panels = dash.panels.filter((p) => p.type !== 'row');
    for (const p of panels) {
      assert.equal(p.datasource?.uid, '${datasource}', `${p.title} datasource`);
      for (const t of p.targets ?? []) {
        assert.equal(t.datasource?.uid, '${datasource}', `${p.title} target datasource`);
        assert.match(t.expr, /job=~"\$job"/, `${p.title} filters by $job`);
      }
    }
    const titles = panels.map((p) => p.title);
    for (const t of ['Request rate', 'Latency P50 / P95 / P99', 'Error rate', 'Active sessions', 'Messages by language', 'AI latency P95', 'AI tokens', 'DB query P95', 'Redis operations', 'Memory', 'CPU', 'Event loop lag']) {
      assert.ok(titles.includes(t), `panel ${t}`);
    }
    const latency = panels.find((p) => p.title === 'Latency P50 / P95 / P99')!;
    assert.deepEqual(latency.targets!.map((t) => /histogram_quantile\(([\d.]+)/.exec(t.expr)?.[1]), ['0.5', '0.95', '0.99']);
  });

  it('the latency panels show exemplars, linked by trace_id to the tracing datasource variable', () => {
    interface Link { title: string; url: string }
    interface Panel {
      type: string;
      title: string;
      targets?: Array<{ expr: string; exemplar?: boolean }>;
      fieldConfig: { overrides: Array<{ matcher: { id: string; options: string }; properties: Array<{ id: string; value: Link[] }> }> };
    }
    const dash = JSON.parse(read('grafana/innatural-chatbot.json')) as {
      templating: { list: Array<{ name: string; type: string; query: unknown }> };
      panels: Panel[];
    };
    const tracing = dash.templating.list.find((v) => v.name === 'tracing');
    assert.deepEqual([tracing?.type, tracing?.query], ['datasource', 'tempo']);

    // Every panel reading a duration histogram the SDK puts exemplars on, and no other.
    const exemplarHistograms = /innatural_chatbot_(http_request|ai_request|db_query)_duration_seconds_bucket/;
    const latency = dash.panels.filter((p) => p.targets?.some((t) => exemplarHistograms.test(t.expr)));
    assert.deepEqual(latency.map((p) => p.title), ['Latency P50 / P95 / P99', 'AI latency P95', 'DB query P95']);
    for (const p of latency) {
      assert.deepEqual(p.targets!.map((t) => t.exemplar), p.targets!.map(() => true), `${p.title}: exemplars on every target`);
      const traceId = p.fieldConfig.overrides.find((o) => o.matcher.id === 'byName' && o.matcher.options === 'trace_id');
      assert.ok(traceId, `${p.title}: an override on the exemplars' trace_id field`);
      const links = traceId.properties.find((prop) => prop.id === 'links')?.value ?? [];
      assert.equal(links.length, 1, `${p.title}: one trace link`);
      // Grafana interpolates a link's url, not an internal link's datasource uid: the variable
      // reaches Explore inside its panes state, which Grafana reads back with JSON.parse.
      const url = new URL(links[0]!.url, 'http://grafana.local');
      assert.equal(url.pathname, '/explore');
      const panes = JSON.parse(url.searchParams.get('panes')!) as Record<string, { datasource: string; queries: Array<{ datasource: { uid: string }; query: string }> }>;
      const pane = Object.values(panes);
      assert.deepEqual(
        pane.map((x) => [x.datasource, x.queries.map((q) => [q.datasource.uid, q.query])]),
        [['${tracing}', [['${tracing}', '${__value.raw}']]]],
        `${p.title}: the trace id opens in $tracing`,
      );
    }
    const others = dash.panels.filter((p) => !latency.includes(p));
    assert.deepEqual(others.filter((p) => p.targets?.some((t) => t.exemplar)).map((p) => p.title), []);
  });

  it('the Grafana provisioning file links exemplars to the tracing datasource named by TRACING_DATASOURCE_UID', () => {
    const text = read('grafana/provisioning/datasources/prometheus.yaml');
    const file = parseYaml(text) as {
      apiVersion: number;
      datasources: Array<{ type: string; uid: string; url: string; jsonData: { exemplarTraceIdDestinations: Array<Record<string, string>> } }>;
    };
    assert.equal(file.apiVersion, 1);
    const [prom, ...rest] = file.datasources;
    assert.deepEqual(rest, []);
    assert.deepEqual([prom!.type, prom!.url], ['prometheus', '${PROMETHEUS_URL}']);
    // Grafana expands ${VAR} in provisioning; `$$` survives as the `$` of its own link syntax.
    assert.deepEqual(prom!.jsonData.exemplarTraceIdDestinations, [
      { name: 'trace_id', datasourceUid: '${TRACING_DATASOURCE_UID}', urlDisplayLabel: 'Trace: $${__value.raw}' },
    ]);
    const expandable = [...text.matchAll(/(?<!\$)\$\{(\w+)\}/g)].map((m) => m[1]);
    assert.deepEqual(expandable.sort(), ['PROMETHEUS_URL', 'TRACING_DATASOURCE_UID']);
  });

  it('the collector build is cached outside the repository: a second build reuses the binary', () => {
    const binary = collectorBinary();
    assert.ok(!binary.startsWith(REPO), `${binary} is outside the repository`);
    const before = statSync(binary).mtimeMs;
    const r = spawnSync(process.execPath, [join(COLLECTOR_DIR, 'build.js')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), binary);
    assert.doesNotMatch(r.stderr, /building/);
    assert.equal(statSync(binary).mtimeMs, before);
  });
});
