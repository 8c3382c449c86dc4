import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import { ExitWindow } from './exit-window';
import { RetryingTransport } from './retrying-transport';

/** Our timers never hold the event loop, the test runner's process included: hold it while waiting. */
function held<T>(promise: Promise<T>): Promise<T> {
  const hold = setInterval(() => {}, 1000);
  return promise.finally(() => clearInterval(hold));
}

/** Answers from a script, recording the timeout of each attempt. */
function scripted(...answers: ExportResponse[]): IExporterTransport & { timeouts: number[] } {
  const timeouts: number[] = [];
  return {
    timeouts,
    send: (_data, timeoutMillis) => {
      timeouts.push(timeoutMillis);
      return Promise.resolve(answers.shift() ?? { status: 'success' });
    },
    shutdown: () => {},
  };
}

const refused: ExportResponse = { status: 'retryable', retryInMillis: 5, error: new Error('connect ECONNREFUSED') };
const DATA = new Uint8Array([1]);

describe('RetryingTransport', () => {
  it('retries a retryable answer until it succeeds, as the stock transport does', async () => {
    const inner = scripted(refused, refused, { status: 'success' });
    const result = await held(new RetryingTransport(inner, new ExitWindow()).send(DATA, 10_000));
    assert.equal(result.status, 'success');
    assert.equal(inner.timeouts.length, 3);
  });

  it('gives up after 5 retries', async () => {
    const inner = scripted(refused, refused, refused, refused, refused, refused, refused);
    const result = await held(new RetryingTransport(inner, new ExitWindow()).send(DATA, 10_000));
    assert.equal(result.status, 'retryable');
    assert.equal(inner.timeouts.length, 6);
  });

  it('does not retry a failure that is not retryable', async () => {
    const inner = scripted({ status: 'failure', error: new Error('400') });
    assert.equal((await held(new RetryingTransport(inner, new ExitWindow()).send(DATA, 10_000))).status, 'failure');
    assert.equal(inner.timeouts.length, 1);
  });

  it('at exit: one attempt, bounded by what is left of the window, and no retry of a refused connection', async () => {
    const exit = new ExitWindow();
    exit.open(300);
    const inner = scripted(refused, { status: 'success' });
    const result = await held(new RetryingTransport(inner, exit).send(DATA, 10_000));
    assert.equal(result.status, 'retryable');
    assert.equal(inner.timeouts.length, 1);
    assert.ok(inner.timeouts[0]! <= 300, `attempt timeout ${inner.timeouts[0]}`);
  });

  it('a retry pending when the window opens is given up, not waited for', async () => {
    const exit = new ExitWindow();
    const inner = scripted({ status: 'retryable', retryInMillis: 60_000 }, { status: 'success' });
    const started = Date.now();
    const sending = new RetryingTransport(inner, exit).send(DATA, 120_000);
    setTimeout(() => exit.open(1000), 20);
    assert.equal((await held(sending)).status, 'retryable');
    assert.equal(inner.timeouts.length, 1);
    assert.ok(Date.now() - started < 1000);
  });

  it('an export begun inside the window does not retry once the window has closed', async () => {
    const exit = new ExitWindow();
    exit.open(50);
    let answer!: (r: ExportResponse) => void;
    const inner: IExporterTransport = { send: () => new Promise((r) => (answer = r)), shutdown: () => {} };
    const sending = new RetryingTransport(inner, exit).send(DATA, 10_000);
    exit.close();
    answer(refused);
    assert.equal((await held(sending)).status, 'retryable');
  });

  it('its retry timers never hold the event loop: a process retrying a refused collector ends with its work', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise((r) => probe.close(r));
    const script = `
      const http = require('node:http');
      const { HttpTransport } = require(${JSON.stringify(require.resolve('./http-transport'))});
      const { RetryingTransport } = require(${JSON.stringify(require.resolve('./retrying-transport'))});
      const { ExitWindow } = require(${JSON.stringify(require.resolve('./exit-window'))});
      const transport = new RetryingTransport(new HttpTransport({
        url: 'http://127.0.0.1:${port}/v1/traces', headers: async () => ({}), compression: 'none',
        timeoutMillis: 10000, concurrencyLimit: 4, agentFactory: () => new http.Agent({ keepAlive: true }),
      }), new ExitWindow());
      transport.send(new Uint8Array([1]), 10000);`;
    const started = Date.now();
    execFileSync(process.execPath, ['-e', script], { timeout: 15_000 });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms: the 10 s of retries held the process`);
  });
});
