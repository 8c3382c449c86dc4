/**
 * Its own file (its own process): instrumentation-pg must be registered before pg is
 * first required, and pg is cached once loaded.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { TracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { postgresCheck } from './postgres';

const REPO_ROOT = resolve(__dirname, '../../../..');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(provider);
// instrumentation-pg also records db.client.operation.duration, with or without a span.
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);
after(() => meterProvider.shutdown());
registerInstrumentations({ instrumentations: [new PgInstrumentation()], tracerProvider: provider });

/** Data points of instrumentation-pg's query histogram, summed. */
async function pgOperations(): Promise<number> {
  metricExporter.reset();
  await reader.forceFlush();
  let count = 0;
  for (const rm of metricExporter.getMetrics())
    for (const sm of rm.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === 'db.client.operation.duration')
          for (const point of m.dataPoints) count += (point.value as { count: number }).count;
  return count;
}

interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
}

describe('postgresCheck under instrumentation-pg', () => {
  it('exports no span, and counts no query, for its own connect and query', async () => {
    assert.equal(require.cache[require.resolve('pg', { paths: [REPO_ROOT] })], undefined, 'pg loaded too early');
    const result = await postgresCheck(PG_URL, [REPO_ROOT])(new AbortController().signal);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
    await provider.forceFlush();
    assert.deepEqual(exporter.getFinishedSpans().map((s) => s.name), []);
    assert.equal(await pgOperations(), 0);
  });

  it('(control) does export spans, and count the query, for an ordinary query from the same pg', async () => {
    const pg = require(require.resolve('pg', { paths: [REPO_ROOT] })) as { Client: new (c: object) => PgClient };
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    await client.query('SELECT 1');
    await client.end();
    await provider.forceFlush();
    const names = exporter.getFinishedSpans().map((s) => s.name);
    assert.ok(names.some((n) => n.startsWith('pg.query')), JSON.stringify(names));
    assert.equal(await pgOperations(), 1);
  });
});
