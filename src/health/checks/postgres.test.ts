import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { postgresCheck, RAW_PROBE_MESSAGE } from './postgres';

/** dist/src/health/checks -> the repo root, where pg is a devDependency. */
const REPO_ROOT = resolve(__dirname, '../../../..');
const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EMPTY_DIR = mkdtempSync(join(tmpdir(), 'otel-pg-check-'));
after(() => rmSync(EMPTY_DIR, { recursive: true, force: true }));

function listen(server: Server): Promise<number> {
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((done) => server.close(() => done()));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** A server that accepts and never answers; `closed` resolves when its client socket is gone. */
async function silentServer(): Promise<{ port: number; server: Server; closed: Promise<void>; received: () => Buffer }> {
  let markClosed!: () => void;
  const closed = new Promise<void>((done) => (markClosed = done));
  const chunks: Buffer[] = [];
  const server = createServer((socket) => {
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => markClosed());
  });
  return { port: await listen(server), server, closed, received: () => Buffer.concat(chunks) };
}

function connections(server: Server): Promise<number> {
  return new Promise((done, fail) => server.getConnections((err, count) => (err ? fail(err) : done(count))));
}

const never = new AbortController().signal;

for (const [name, dirs] of [
  ['with the app\'s pg', [REPO_ROOT]],
  ['without pg (raw probe)', [EMPTY_DIR]],
] as const) {
  describe(`postgresCheck ${name}`, () => {
    it('is unhealthy, quickly, on a closed port', async () => {
      const port = await closedPort();
      const started = Date.now();
      const result = await postgresCheck(`postgres://postgres@127.0.0.1:${port}/test`, dirs)(never);
      assert.equal(result.status, 'unhealthy');
      assert.equal(result.connected, false);
      assert.match(String(result.message), /ECONNREFUSED/);
      assert.ok(Number.isInteger(result.responseTime));
      assert.ok(Date.now() - started < 1000);
    });

    it('resolves at the abort and leaves nothing open when the server never answers', async () => {
      const silent = await silentServer();
      try {
        const started = Date.now();
        const url = `postgres://postgres:pwCanary123@127.0.0.1:${silent.port}/test`;
        const result = await postgresCheck(url, dirs)(AbortSignal.timeout(300));
        const took = Date.now() - started;
        assert.equal(result.status, 'unhealthy');
        assert.equal(result.connected, false);
        assert.match(String(result.message), /timed out/);
        assert.ok(!JSON.stringify(result).includes('pwCanary123'));
        assert.ok(took >= 250 && took < 500, `took ${took} ms`);
        await silent.closed;
        assert.equal(await connections(silent.server), 0);
      } finally {
        await close(silent.server);
      }
    });

    it('uses its own backstop timeout when the signal never fires', async () => {
      const silent = await silentServer();
      try {
        const result = await postgresCheck(`postgres://127.0.0.1:${silent.port}/test`, dirs, { timeoutMs: 200 })(never);
        assert.equal(result.status, 'unhealthy');
        await silent.closed;
      } finally {
        await close(silent.server);
      }
    });

    it('answers at once when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      const started = Date.now();
      const result = await postgresCheck(PG_URL, dirs)(controller.signal);
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /timed out/);
      assert.ok(Date.now() - started < 100);
    });

    it('is unhealthy when the server is not PostgreSQL', async () => {
      const server = createServer((socket) => {
        socket.on('error', () => undefined);
        socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
      });
      const port = await listen(server);
      try {
        const result = await postgresCheck(`postgres://u:pwCanary123@127.0.0.1:${port}/test`, dirs)(never);
        assert.equal(result.status, 'unhealthy', JSON.stringify(result));
        assert.ok(!JSON.stringify(result).includes('pwCanary123'));
      } finally {
        await close(server);
      }
    });

    it('is unhealthy for a malformed URL', async () => {
      for (const url of ['not a url', 'mysql://127.0.0.1/test', 'postgres://u:pwCanary123@[::1/test']) {
        const result = await postgresCheck(url, dirs)(never);
        assert.equal(result.status, 'unhealthy', url);
        assert.ok(!JSON.stringify(result).includes('pwCanary123'), JSON.stringify(result));
      }
    });
  });
}

describe('postgresCheck with the app\'s pg', () => {
  it('is healthy against the real PostgreSQL', async () => {
    const result = await postgresCheck(PG_URL, [REPO_ROOT])(never);
    assert.deepEqual(Object.keys(result).sort(), ['connected', 'responseTime', 'status']);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
    assert.equal(result.connected, true);
    assert.ok(Number.isInteger(result.responseTime) && result.responseTime! >= 0);
  });

  it('never shows the password, whether the login succeeds or fails', async () => {
    for (const url of [
      'postgres://nosuchuser:pwCanary123@127.0.0.1:5432/test',
      'postgres://postgres:pwCanary123@127.0.0.1:5432/nosuchdb_pwCanary123',
      'postgresql://postgres:pw%43anary123@127.0.0.1:5432/test?sslmode=verify-full',
    ]) {
      const result = await postgresCheck(url, [REPO_ROOT])(AbortSignal.timeout(3000));
      const json = JSON.stringify(result);
      assert.ok(!json.includes('pwCanary123') && !json.includes('pw%43anary123'), json);
      assert.ok(!json.includes(url), json);
    }
  });

  it('shows why a login failed', async () => {
    const result = await postgresCheck('postgres://postgres@127.0.0.1:5432/nosuchdb', [REPO_ROOT])(never);
    assert.equal(result.status, 'unhealthy');
    assert.match(String(result.message), /nosuchdb/);
  });
});

describe('postgresCheck without pg (raw probe)', () => {
  it('is healthy against the real PostgreSQL, and says no query was run', async () => {
    const result = await postgresCheck(PG_URL, [EMPTY_DIR])(never);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
    assert.equal(result.connected, true);
    assert.equal(result.message, RAW_PROBE_MESSAGE);
    assert.ok(Number.isInteger(result.responseTime) && result.responseTime! >= 0);
  });

  it('sends an SSLRequest and accepts a single N', async () => {
    let received = Buffer.alloc(0);
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', (chunk) => {
        received = chunk;
        socket.write('N');
      });
    });
    const port = await listen(server);
    try {
      const result = await postgresCheck(`postgresql://127.0.0.1:${port}/test`, [EMPTY_DIR])(never);
      assert.equal(result.status, 'healthy', JSON.stringify(result));
      assert.deepEqual([...received], [0, 0, 0, 8, 4, 210, 22, 47]);
      assert.equal(received.readInt32BE(4), 80877103);
    } finally {
      await close(server);
    }
  });

  it('resolves at the abort and closes the socket when the server says S and then stalls the TLS handshake', async () => {
    let markClosed!: () => void;
    const closed = new Promise<void>((done) => (markClosed = done));
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.on('close', () => markClosed());
      socket.once('data', () => socket.write('S'));
    });
    const port = await listen(server);
    try {
      const result = await postgresCheck(`postgres://127.0.0.1:${port}/test`, [EMPTY_DIR])(AbortSignal.timeout(300));
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /timed out/);
      await closed;
      assert.equal(await connections(server), 0);
    } finally {
      await close(server);
    }
  });

  it('is unhealthy for a reply that is not S or N', async () => {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.write('E'));
    });
    const port = await listen(server);
    try {
      const result = await postgresCheck(`postgres://127.0.0.1:${port}/test`, [EMPTY_DIR])(never);
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /does not answer like a PostgreSQL server/);
    } finally {
      await close(server);
    }
  });
});
