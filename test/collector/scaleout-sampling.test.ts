/**
 * Tail sampling across three gateway replicas (collector/gateway.yaml) behind one agent
 * (collector/otelcol.yaml): 2,400 four-span traces, each arriving in two parts (children first,
 * the root in a later export). Every error trace and every trace slower than the 2 s threshold
 * must be kept whole; of the rest, the share kept must be the configured one, within ±5 points,
 * each trace whole or not at all.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { byTrace, COLLECTOR_DIR, startCollector, startGateways, TraceGenerator, type Collector, type Gateway, type GeneratedTrace } from '../support/collector';
import { startOtlpSink, type OtlpSink } from '../support/otlp-sink';
import { eventually } from '../support/wait';

const REPLICAS = 3;
const TRACES = 2400;
const BATCH = 100;
const SHARE = 20;

describe(`tail sampling across ${REPLICAS} gateway replicas, ${TRACES} traces`, () => {
  let backend: OtlpSink;
  let gateways: Gateway[];
  let agent: Collector;
  let traces: GeneratedTrace[] = [];
  let kept: Map<string, Set<string>>;
  let perReplica: Array<Set<string>>;

  before(async () => {
    backend = await startOtlpSink();
    gateways = await startGateways(REPLICAS, {
      OTELCOL_BACKEND_OTLP_ENDPOINT: backend.url,
      OTELCOL_SAMPLING_PERCENTAGE: String(SHARE),
      OTELCOL_TAIL_DECISION_WAIT: '1s',
    });
    agent = await startCollector(join(COLLECTOR_DIR, 'otelcol.yaml'), [], {
      OTELCOL_GATEWAY_RESOLVER: 'static',
      OTELCOL_GATEWAY_ENDPOINTS: gateways.map((g) => g.otlpGrpc).join(','),
      OTELCOL_BACKEND_OTLP_ENDPOINT: gateways[0]!.otlpHttp,
    });

    const generator = new TraceGenerator(agent.otlpHttp);
    for (let i = 0; i < TRACES; i += BATCH) {
      // 1 in 20 has an error span, 1 in 20 is slow (2.5 s), the rest take 5 to 50 ms.
      const shapes = Array.from({ length: BATCH }, (_, j) => {
        const n = i + j;
        if (n % 20 === 0) return { durationMs: 20, error: true };
        if (n % 20 === 1) return { durationMs: 2500 };
        return { durationMs: 5 + (n % 46) };
      });
      traces.push(...(await generator.send(shapes)));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await generator.flush();

    // Decisions come decision_wait (1 s) after a trace's first span. Wait until every error and
    // slow trace is out, then until the kept set stops growing.
    const must = traces.filter((t) => t.error || t.slow);
    const union = () => {
      perReplica = gateways.map((g) => new Set(g.spans().map((s) => s.traceId)));
      const all = new Map<string, Set<string>>();
      for (const g of gateways) for (const [t, ids] of byTrace(g.spans())) all.set(t, new Set([...(all.get(t) ?? []), ...ids]));
      return all;
    };
    await eventually(
      async () => {
        const all = union();
        return must.every((t) => all.get(t.traceId)?.size === t.spanIds.length);
      },
      30000,
      'error and slow traces at the gateways',
      () => gateways.map((g, i) => `replica ${i}: ${g.spans().length} spans\n${g.output().slice(-600)}`).join('\n'),
    );
    let size = -1;
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      kept = union();
      if (kept.size === size) break;
      size = kept.size;
    }
  });

  after(async () => {
    await agent?.stop();
    await Promise.all((gateways ?? []).map((g) => g.stop()));
    await backend?.close();
  });

  it('sent the traces: 2,400, a tenth of them errors or slow', () => {
    assert.equal(traces.length, TRACES);
    assert.equal(traces.filter((t) => t.error).length, TRACES / 20);
    assert.equal(traces.filter((t) => t.slow).length, TRACES / 20);
  });

  it('keeps every error trace whole', () => {
    const missing = traces.filter((t) => t.error && kept.get(t.traceId)?.size !== t.spanIds.length);
    assert.deepEqual(missing.map((t) => t.traceId), []);
  });

  it('keeps every trace slower than the threshold whole', () => {
    const missing = traces.filter((t) => t.slow && kept.get(t.traceId)?.size !== t.spanIds.length);
    assert.deepEqual(missing.map((t) => t.traceId), []);
  });

  it(`keeps ${SHARE}% ± 5 points of the rest, each whole or not at all`, (t) => {
    const rest = traces.filter((tr) => !tr.error && !tr.slow);
    const keptRest = rest.filter((tr) => kept.has(tr.traceId));
    const share = (100 * keptRest.length) / rest.length;
    t.diagnostic(`kept ${keptRest.length} of ${rest.length} fast traces: ${share.toFixed(1)}% (configured ${SHARE}%)`);
    assert.ok(Math.abs(share - SHARE) <= 5, `${share.toFixed(1)}%`);
    const partial = keptRest.filter((tr) => kept.get(tr.traceId)!.size !== tr.spanIds.length);
    assert.deepEqual(partial.map((tr) => tr.traceId), []);
  });

  it('each kept trace was decided on one replica, every replica decided some, and nothing else was kept', (t) => {
    const sent = new Set(traces.map((tr) => tr.traceId));
    assert.deepEqual([...kept.keys()].filter((id) => !sent.has(id)), []);
    const onTwo = [...kept.keys()].filter((id) => perReplica.filter((r) => r.has(id)).length !== 1);
    assert.deepEqual(onTwo, []);
    t.diagnostic(`kept traces per replica: ${perReplica.map((r) => r.size).join(', ')}`);
    for (const r of perReplica) assert.ok(r.size >= kept.size / 6, perReplica.map((x) => x.size).join(', '));
  });
});
