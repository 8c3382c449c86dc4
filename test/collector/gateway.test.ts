/**
 * Agent → gateway, both as shipped (collector/otelcol.yaml, collector/gateway.yaml) in the real
 * collector: the gateway's tail sampling keeps every error trace and every slow trace, and a
 * configured share of the fast, successful rest.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { COLLECTOR_DIR, fileExporterOverlay, startCollector, tempDir, type Collector } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const FAST_TRACES = 200;
const SHARE = 25;

const hex = (bytes: number) => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });

interface RawSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: ReturnType<typeof kv>[];
  status: { code?: number; message?: string };
}

function span(traceId: string, name: string, durationMs: number, status: RawSpan['status'] = {}, parentSpanId?: string): RawSpan {
  const end = Date.now() * 1e6;
  return {
    traceId,
    spanId: hex(8),
    ...(parentSpanId ? { parentSpanId } : {}),
    name,
    kind: parentSpanId ? 3 : 2,
    startTimeUnixNano: String(end - durationMs * 1e6),
    endTimeUnixNano: String(end),
    attributes: [kv('http.route', name)],
    status,
  };
}

/** Spans the gateway's file exporter wrote, by trace id. */
function exported(file: string): Map<string, string[]> {
  const byTrace = new Map<string, string[]>();
  const text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const batch = JSON.parse(line) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<{ traceId: string; name: string }> }> }> };
    for (const rs of batch.resourceSpans) {
      for (const ss of rs.scopeSpans) {
        for (const s of ss.spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s.name]);
      }
    }
  }
  return byTrace;
}

describe('agent → gateway tail sampling (collector/gateway.yaml)', () => {
  let sink: OtlpSink;
  let gateway: Collector;
  let agent: Collector;
  let file: string;
  const errorTrace = hex(16);
  const slowTrace = hex(16);
  const fastTraces = Array.from({ length: FAST_TRACES }, () => hex(16));

  before(async () => {
    const dir = tempDir('gateway');
    file = join(dir, 'sampled.jsonl');
    const overlay = fileExporterOverlay(dir, 'file/sampled', file, ['otlp_http/backend']);
    sink = await startOtlpSink();
    gateway = await startCollector(join(COLLECTOR_DIR, 'gateway.yaml'), [overlay], {
      OTELCOL_BACKEND_OTLP_ENDPOINT: sink.url,
      OTELCOL_SAMPLING_PERCENTAGE: String(SHARE),
      OTELCOL_TAIL_DECISION_WAIT: '1s',
    });
    agent = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [], {
      OTELCOL_BACKEND_OTLP_ENDPOINT: gateway.otlpHttp,
      OTELCOL_GATEWAY_ENDPOINTS: gateway.otlpGrpc,
    });

    const root = span(errorTrace, '/api/chat', 40, { code: 2, message: 'upstream failed' });
    const spans: RawSpan[] = [
      root,
      span(errorTrace, 'POST openai', 30, {}, root.spanId),
      span(slowTrace, '/api/report', 3000, { code: 1 }),
      ...fastTraces.map((t) => span(t, '/api/users/:id', 5, { code: 1 })),
    ];
    const res = await fetch(`${agent.otlpHttp}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ resource: { attributes: [kv('service.name', 'shop')] }, scopeSpans: [{ scope: { name: 'test' }, spans }] }],
      }),
    });
    assert.equal(res.status, 200, await res.text());
    // Decisions come after decision_wait (1 s); wait until the error trace is out, then one more
    // decision tick so every trace of the batch has been decided.
    await eventually(async () => exported(file).has(errorTrace), 20000, 'gateway file exporter', () => gateway.output().slice(-2000));
    await new Promise((resolve) => setTimeout(resolve, 2500));
  });

  after(async () => {
    await agent?.stop();
    await gateway?.stop();
    await sink?.close();
  });

  it('keeps the error trace whole', () => {
    assert.deepEqual(exported(file).get(errorTrace)?.sort(), ['/api/chat', 'POST openai']);
  });

  it('keeps the trace slower than 2 s', () => {
    assert.deepEqual(exported(file).get(slowTrace), ['/api/report']);
  });

  it(`keeps about ${SHARE}% of the fast, successful traces, whole or not at all`, () => {
    const traces = exported(file);
    const kept = fastTraces.filter((t) => traces.has(t)).length;
    // Binomial(200, 0.25): mean 50, sd 6.1; these bounds are 4 sd wide on each side.
    assert.ok(kept >= 25 && kept <= 75, `kept ${kept} of ${FAST_TRACES}`);
    assert.equal(traces.size, kept + 2, 'nothing else reached the file');
  });

  it('forwards what it keeps to the backend, and only that', () => {
    const ids = new Set(sink.spans.map((s) => s.traceId));
    assert.ok(ids.has(errorTrace) && ids.has(slowTrace));
    assert.equal(ids.size, exported(file).size);
  });
});
