/**
 * One agent (collector/otelcol.yaml, static resolver) in front of three gateway replicas
 * (collector/gateway.yaml), with the instrumented chatbot fixture sending real multi-span traces
 * (HTTP server, PostgreSQL, Redis, an outgoing call to the AI provider): every trace must land
 * whole on exactly one replica, and every replica must get a share.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startApp, type RunningApp } from '../support/app';
import {
  byTrace,
  COLLECTOR_DIR,
  fileExporterOverlay,
  readSpanFile,
  startCollector,
  startGateways,
  tempDir,
  type Collector,
  type ExportedSpan,
  type Gateway,
} from '../support/collector';
import { startOpenAiServer, type OpenAiServer } from '../support/openai-server';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const REPLICAS = 3;
const ROUNDS = 25;

describe('agent → three gateway replicas, routed by trace id (instrumented app)', () => {
  let ai: OpenAiServer;
  let backend: OtlpSink;
  let gateways: Gateway[];
  let agent: Collector;
  let app: RunningApp;
  let agentFile: string;
  /** What the agent received from the app: the truth each replica's share is checked against. */
  let sent: Map<string, Set<string>>;
  let sentSpans: ExportedSpan[];
  let landed: Array<Map<string, Set<string>>>;

  before(async () => {
    ai = await startOpenAiServer();
    backend = await startOtlpSink();
    // Keep every trace (100%), so what each replica writes is everything it was sent.
    gateways = await startGateways(REPLICAS, {
      OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      OTELCOL_SAMPLING_PERCENTAGE: '100',
      OTELCOL_TAIL_DECISION_WAIT: '1s',
    });
    const dir = tempDir('routing');
    agentFile = join(dir, 'agent.jsonl');
    const overlay = fileExporterOverlay(dir, 'file/agent', agentFile, ['load_balancing/static']);
    agent = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [overlay], {
      OTELCOL_GATEWAY_RESOLVER: 'static',
      OTELCOL_GATEWAY_ENDPOINTS: gateways.map((g) => g.otlpGrpc).join(','),
      OTELCOL_BACKEND_OTLP_ENDPOINT: gateways[0]!.otlpHttp,
    });
    app = await startApp({
      fixture: 'chatbot-app.js',
      env: {
        OTEL_SERVICE_NAME: 'chatbot-routing',
        OTEL_EXPORTER_OTLP_ENDPOINT: agent.otlpHttp,
        OTEL_METRICS_EXPORTER: 'none',
        OTEL_LOGS_EXPORTER: 'none',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        INNATURAL_HEALTH_PORT: '0',
        INNATURAL_HEALTH_HOST: '127.0.0.1',
        FIXTURE_OPENAI_URL: ai.url,
      },
    });

    const post = (path: string, body: unknown) => app.get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (let i = 0; i < ROUNDS; i++) {
      const answers = await Promise.all([
        app.get('/api/db'),
        app.get('/api/cache'),
        post('/api/chat', { message: `hello ${i}`, language: 'en' }),
        app.get(`/api/users/${i}`),
      ]);
      for (const a of answers) await a.arrayBuffer();
    }

    // Every request is a trace; wait for all of them at the agent, then for every span of every
    // one of them at some replica.
    sentSpans = await eventually(
      async () => {
        const spans = readSpanFile(agentFile).filter((s) => s.service === 'chatbot-routing');
        return byTrace(spans.filter((s) => s.kind === 2)).size >= ROUNDS * 4 && spans;
      },
      20000,
      'app traces at the agent',
      () => agent.output().slice(-2000),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    sentSpans = readSpanFile(agentFile).filter((s) => s.service === 'chatbot-routing');
    sent = byTrace(sentSpans);
    await eventually(
      async () => {
        landed = gateways.map((g) => byTrace(g.spans()));
        const total = landed.reduce((n, m) => n + [...m.values()].reduce((k, ids) => k + ids.size, 0), 0);
        return total >= sentSpans.length;
      },
      20000,
      'spans at the gateways',
      () => gateways.map((g, i) => `replica ${i}: ${g.spans().length} spans\n${g.output().slice(-800)}`).join('\n'),
    );
  });

  after(async () => {
    app?.kill();
    await agent?.stop();
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await backend?.close();
    await ai?.close();
  });

  it('the app made multi-span traces: HTTP server, PostgreSQL, Redis and an outgoing HTTP call', () => {
    const system = (s: ExportedSpan) => s.attributes['db.system.name'] ?? s.attributes['db.system'];
    assert.ok(sentSpans.some((s) => system(s) === 'postgresql'), 'a PostgreSQL span');
    assert.ok(sentSpans.some((s) => system(s) === 'redis'), 'a Redis span');
    assert.ok(sentSpans.some((s) => s.kind === 3 && system(s) === undefined), 'an outgoing HTTP span');
    const multi = [...sent.values()].filter((ids) => ids.size >= 3).length;
    assert.ok(multi >= ROUNDS * 3, `${multi} traces of 3 spans or more`);
  });

  it('every trace lands on exactly one replica, with all of its spans', () => {
    const split: string[] = [];
    const incomplete: string[] = [];
    for (const [traceId, ids] of sent) {
      const holders = landed.filter((m) => m.has(traceId));
      if (holders.length !== 1) split.push(`${traceId} on ${holders.length} replicas`);
      else if (holders[0]!.get(traceId)!.size !== ids.size) incomplete.push(`${traceId}: ${holders[0]!.get(traceId)!.size} of ${ids.size}`);
    }
    assert.deepEqual(split, []);
    assert.deepEqual(incomplete, []);
  });

  it('every replica gets a share of the traces', (t) => {
    const shares = landed.map((m) => [...m.keys()].filter((t) => sent.has(t)).length);
    t.diagnostic(`traces per replica: ${shares.join(', ')} of ${sent.size}`);
    assert.equal(shares.reduce((a, b) => a + b, 0), sent.size);
    // 100 traces over 3 replicas: about 33 each; 10 is far below anything the hash ring gives.
    for (const [i, n] of shares.entries()) assert.ok(n >= 10, `replica ${i} got ${n} of ${sent.size} traces (${shares.join(', ')})`);
  });
});
