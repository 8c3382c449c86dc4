import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { OTLPExporterError } from '@opentelemetry/otlp-exporter-base';
import { HttpTransport, retryAfterMs } from './http-transport';

async function serve(handler: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, Buffer.concat(chunks), res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  return { url, close: () => new Promise((r) => server.close(r)) };
}

const transport = (url: string, extra: object = {}) =>
  new HttpTransport({
    url,
    headers: () => Promise.resolve({ 'Content-Type': 'application/x-protobuf', 'x-tenant': 'acme' }),
    compression: 'none',
    timeoutMillis: 2000,
    concurrencyLimit: 4,
    agentFactory: () => new Agent({ keepAlive: true }),
    ...extra,
  });

describe('HttpTransport', () => {
  it('POSTs the bytes with the configured headers; 2xx is success with the answer', async () => {
    let seen: { headers: IncomingMessage['headers']; body: Buffer } | undefined;
    const server = await serve((req, body, res) => {
      seen = { headers: req.headers, body };
      res.end('answer');
    });
    try {
      const result = await transport(server.url).send(new Uint8Array([1, 2, 3]), 1000);
      assert.equal(result.status, 'success');
      assert.deepEqual(Buffer.from((result as { data: Uint8Array }).data).toString(), 'answer');
      assert.deepEqual([...seen!.body], [1, 2, 3]);
      assert.equal(seen!.headers['x-tenant'], 'acme');
      assert.match(String(seen!.headers['user-agent']), /^OTel-OTLP-Exporter-JavaScript\/\d+\.\d+\.\d+$/);
    } finally {
      await server.close();
    }
  });

  it('gzip: the body is compressed and says so', async () => {
    let seen: { encoding?: string; body: Buffer } | undefined;
    const server = await serve((req, body, res) => {
      seen = { encoding: req.headers['content-encoding'], body };
      res.end();
    });
    try {
      await transport(server.url, { compression: 'gzip' }).send(new Uint8Array([9, 8, 7]), 1000);
      assert.equal(seen!.encoding, 'gzip');
      assert.deepEqual([...gunzipSync(seen!.body)], [9, 8, 7]);
    } finally {
      await server.close();
    }
  });

  it('429, 502, 503, 504 are retryable, with Retry-After; other statuses fail with the answer', async () => {
    let status = 503;
    const server = await serve((_req, _body, res) => res.writeHead(status, { 'Retry-After': '2' }).end('busy'));
    try {
      for (const s of [429, 502, 503, 504]) {
        status = s;
        assert.deepEqual(await transport(server.url).send(new Uint8Array(), 1000), { status: 'retryable', retryInMillis: 2000 });
      }
      status = 400;
      const failed = await transport(server.url).send(new Uint8Array(), 1000);
      assert.equal(failed.status, 'failure');
      const error = (failed as { error: OTLPExporterError }).error;
      assert.ok(error instanceof OTLPExporterError);
      assert.equal(error.code, 400);
      assert.equal(error.data, 'busy');
    } finally {
      await server.close();
    }
  });

  it('a refused connection is retryable; an answer that never comes times out as retryable', async () => {
    const server = await serve(() => {});
    try {
      const hanging = await transport(server.url).send(new Uint8Array(), 150);
      assert.equal(hanging.status, 'retryable');
      assert.match(String((hanging as { error: Error }).error.message), /timed out/);
    } finally {
      await server.close();
    }
    const refused = await transport(server.url).send(new Uint8Array(), 500);
    assert.equal(refused.status, 'retryable');
    assert.equal((refused as { error: NodeJS.ErrnoException }).error.code, 'ECONNREFUSED');
  });

  it('its sockets never hold the event loop: a process whose export hangs ends with its work', async () => {
    // The collector answers nothing, in another process: this one's loop must not be what keeps the child up.
    const collector = `require('node:http').createServer(() => {}).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });`;
    const { spawn } = await import('node:child_process');
    const blackhole = spawn(process.execPath, ['-e', collector], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [chunk] = (await once(blackhole.stdout!, 'data')) as [Buffer];
      const port = Number(chunk.toString().trim());
      const script = `
        const http = require('node:http');
        const { HttpTransport } = require(${JSON.stringify(require.resolve('./http-transport'))});
        new HttpTransport({ url: 'http://127.0.0.1:${port}/v1/traces', headers: async () => ({}), compression: 'none',
          timeoutMillis: 10000, concurrencyLimit: 4, agentFactory: () => new http.Agent({ keepAlive: true }) })
          .send(new Uint8Array([1]), 10000);`;
      const started = Date.now();
      execFileSync(process.execPath, ['-e', script], { timeout: 15_000 });
      assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms: the pending export held the process`);
    } finally {
      blackhole.kill();
    }
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and dates as the stock transport does', () => {
    assert.equal(retryAfterMs(undefined), undefined);
    assert.equal(retryAfterMs('3'), 3000);
    assert.equal(retryAfterMs('0'), -1);
    assert.equal(retryAfterMs(new Date(Date.now() - 10_000).toUTCString()), 0);
    const later = retryAfterMs(new Date(Date.now() + 60_000).toUTCString())!;
    assert.ok(later > 50_000 && later <= 60_000, String(later));
  });
});
