import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { setGlobalErrorHandler, loggingErrorHandler, isTracingSuppressed } from '@opentelemetry/core';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import type { ExportResult } from '@opentelemetry/core';
import { Batcher, type BatchExporter } from './batcher';

interface Item {
  readonly n: number;
  readonly resource: { asyncAttributesPending?: boolean; waitForAsyncAttributes?(): Promise<void> };
}

const item = (n: number): Item => ({ n, resource: {} });
const BATCH = { scheduleDelayMs: 30, exportTimeoutMs: 30_000, maxQueueSize: 10, maxExportBatchSize: 4 };

/** Records batches; answers with `result` (undefined: never answers). */
function recorder(result: ExportResult | undefined = { code: 0 }) {
  const batches: number[][] = [];
  const suppressed: boolean[] = [];
  const exporter: BatchExporter<Item> & { shutdowns: number } = {
    shutdowns: 0,
    export(items, done) {
      batches.push(items.map((i) => i.n));
      suppressed.push(isTracingSuppressed(context.active()));
      if (result) setImmediate(() => done(result));
    },
    shutdown() {
      this.shutdowns++;
      return Promise.resolve();
    },
  };
  return { exporter, batches, suppressed };
}

/** Our timers never hold the event loop, the test runner's included: hold it while waiting. */
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Batcher', () => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  it('exports at once when a full batch waits, else after the schedule delay', async () => {
    const { exporter, batches } = recorder();
    const batcher = new Batcher(exporter, BATCH, 'items');
    for (let n = 1; n <= 4; n++) batcher.add(item(n));
    assert.deepEqual(batches, [[1, 2, 3, 4]], 'a full batch goes at once');
    batcher.add(item(5));
    await wait(5);
    assert.equal(batches.length, 1);
    await wait(60);
    assert.deepEqual(batches, [[1, 2, 3, 4], [5]]);
  });

  it('flush exports everything queued, in batches of at most maxExportBatchSize, with tracing suppressed', async () => {
    const { exporter, batches, suppressed } = recorder();
    const batcher = new Batcher(exporter, { ...BATCH, scheduleDelayMs: 60_000, maxExportBatchSize: 3 }, 'items');
    // While a scheduled export is under way the queue fills up past one batch.
    for (let n = 1; n <= 7; n++) batcher.add(item(n));
    await batcher.flush();
    assert.deepEqual(batches.flat().sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7]);
    assert.ok(batches.every((b) => b.length <= 3), JSON.stringify(batches));
    assert.ok(suppressed.every(Boolean));
  });

  it('a full queue drops what comes next', () => {
    // The first batch is under way (and never answers): the queue holds 4 more, the rest is dropped.
    const { exporter, batches } = recorder(undefined);
    const batcher = new Batcher(exporter, { ...BATCH, maxQueueSize: 4, scheduleDelayMs: 60_000 }, 'items');
    for (let n = 1; n <= 12; n++) batcher.add(item(n));
    void batcher.flush();
    assert.deepEqual(batches, [
      [1, 2, 3, 4],
      [5, 6, 7, 8],
    ]);
  });

  it('waits for resources whose attributes are still being detected', async () => {
    const { exporter, batches } = recorder();
    let settle!: () => void;
    const pending = new Promise<void>((r) => (settle = r));
    const batcher = new Batcher(exporter, BATCH, 'items');
    batcher.add({ n: 1, resource: { asyncAttributesPending: true, waitForAsyncAttributes: () => pending } });
    const flushed = batcher.flush();
    await wait(5);
    assert.deepEqual(batches, []);
    settle();
    await flushed;
    assert.deepEqual(batches, [[1]]);
  });

  it('a failed scheduled export goes to the global error handler; a failed flush rejects', async () => {
    const errors: unknown[] = [];
    setGlobalErrorHandler((err) => errors.push(err));
    try {
      const { exporter } = recorder({ code: 1, error: new Error('refused') });
      const batcher = new Batcher(exporter, BATCH, 'items');
      batcher.add(item(1));
      await wait(60);
      assert.deepEqual(errors.map((e) => (e as Error).message), ['refused']);
      batcher.add(item(2));
      await assert.rejects(batcher.flush(), /refused/);
    } finally {
      setGlobalErrorHandler(loggingErrorHandler());
    }
  });

  it('shutdown flushes, shuts the exporter down once, then takes nothing more', async () => {
    const { exporter, batches } = recorder();
    const batcher = new Batcher(exporter, { ...BATCH, scheduleDelayMs: 60_000 }, 'items');
    batcher.add(item(1));
    await Promise.all([batcher.shutdown(), batcher.shutdown()]);
    batcher.add(item(2));
    await batcher.flush();
    assert.deepEqual(batches, [[1]]);
    assert.equal(exporter.shutdowns, 1);
  });

  it('no timer of it holds the event loop: a process whose export never answers ends with its work', () => {
    const script = `
      const { Batcher } = require(${JSON.stringify(require.resolve('./batcher'))});
      const batcher = new Batcher({ export() {}, shutdown: async () => {} },
        { scheduleDelayMs: 10, exportTimeoutMs: 30000, maxQueueSize: 10, maxExportBatchSize: 2 }, 'items');
      batcher.add({ resource: {} });
      batcher.add({ resource: {} });
      batcher.add({ resource: {} });`;
    const started = Date.now();
    execFileSync(process.execPath, ['-e', script], { timeout: 35_000 });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms: the 30 s export timeout held the process`);
  });
});

