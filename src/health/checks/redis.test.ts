import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { redisCheck } from './redis';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await close(server);
  return port;
}

/** A fake Redis: `onData` sees everything the client sent so far and may answer. */
async function fakeRedis(onData: (received: string, socket: Socket) => void): Promise<{
  port: number;
  received: () => string;
  server: Server;
  closed: Promise<void>;
}> {
  let received = '';
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const server = createServer((socket) => {
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      onData(received, socket);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => markClosed());
  });
  const port = await listen(server);
  return { port, received: () => received, server, closed };
}

const never = new AbortController().signal;

describe('redisCheck', () => {
  it('is healthy against the real Redis', async () => {
    const result = await redisCheck(REDIS_URL)(never);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
    assert.equal(result.connected, true);
    assert.equal(result.message, 'Redis operational');
    assert.ok(Number.isInteger(result.responseTime) && result.responseTime! >= 0, String(result.responseTime));
  });

  it('selects the database named in the path against the real Redis', async () => {
    const result = await redisCheck(`${REDIS_URL}/1`)(never);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
  });

  it('is unhealthy, quickly, on a closed port', async () => {
    const port = await closedPort();
    const started = Date.now();
    const result = await redisCheck(`redis://127.0.0.1:${port}`)(never);
    assert.equal(result.status, 'unhealthy');
    assert.equal(result.connected, false);
    assert.match(String(result.message), /ECONNREFUSED/);
    assert.ok(Date.now() - started < 1000);
  });

  it('resolves unhealthy at the abort and closes the socket when the server never answers', async () => {
    const fake = await fakeRedis(() => undefined);
    try {
      const started = Date.now();
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`)(AbortSignal.timeout(300));
      const took = Date.now() - started;
      assert.equal(result.status, 'unhealthy');
      assert.equal(result.connected, false);
      assert.match(String(result.message), /timed out/);
      assert.ok(took >= 250 && took < 400, `took ${took} ms`);
      await fake.closed;
    } finally {
      await close(fake.server);
    }
  });

  it('answers at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await redisCheck(REDIS_URL)(controller.signal);
    assert.equal(result.status, 'unhealthy');
    assert.match(String(result.message), /timed out/);
  });

  it('uses its own backstop timeout when the signal never fires', async () => {
    const fake = await fakeRedis(() => undefined);
    try {
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`, { timeoutMs: 200 })(never);
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /timed out/);
      await fake.closed;
    } finally {
      await close(fake.server);
    }
  });

  it('reports NOAUTH as an authentication failure', async () => {
    const fake = await fakeRedis((_, socket) => socket.write('-NOAUTH Authentication required.\r\n'));
    try {
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`)(never);
      assert.equal(result.status, 'unhealthy');
      assert.equal(result.connected, false);
      assert.match(String(result.message), /auth/i);
      await fake.closed;
    } finally {
      await close(fake.server);
    }
  });

  it('sends AUTH with the password but never shows the password', async () => {
    const fake = await fakeRedis((_, socket) => socket.write('-WRONGPASS invalid username-password pair\r\n'));
    try {
      const url = `redis://:s3cretCanary@127.0.0.1:${fake.port}/2`;
      const result = await redisCheck(url)(never);
      assert.equal(fake.received(), '*2\r\n$4\r\nAUTH\r\n$12\r\ns3cretCanary\r\n');
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /authentication failed/);
      const json = JSON.stringify(result);
      assert.ok(!json.includes('s3cretCanary'), json);
      assert.ok(!json.includes(url), json);
    } finally {
      await close(fake.server);
    }
  });

  it('scrubs the password even when the server echoes it back', async () => {
    const fake = await fakeRedis((_, socket) =>
      socket.write("-ERR unknown command 'AUTH', with args beginning with: 'us%er' 's3cret Canary'\r\n"),
    );
    try {
      const result = await redisCheck(`redis://us%25er:s3cret%20Canary@127.0.0.1:${fake.port}`)(never);
      assert.equal(fake.received(), '*3\r\n$4\r\nAUTH\r\n$5\r\nus%er\r\n$13\r\ns3cret Canary\r\n');
      const json = JSON.stringify(result);
      assert.equal(result.status, 'unhealthy');
      assert.ok(!json.includes('s3cret Canary') && !json.includes('s3cret%20Canary'), json);
    } finally {
      await close(fake.server);
    }
  });

  it('goes on when the server needs no password, as ioredis does (the real Redis has none)', async () => {
    const result = await redisCheck(REDIS_URL.replace('redis://', 'redis://:unneededPassword@'))(never);
    assert.equal(result.status, 'healthy', JSON.stringify(result));
  });

  it('runs AUTH, SELECT and PING in order and is healthy when all succeed', async () => {
    const fake = await fakeRedis((received, socket) => {
      const commands = received.split('*').length - 1;
      socket.write(commands === 3 ? '+PONG\r\n' : '+OK\r\n');
    });
    try {
      const result = await redisCheck(`redis://app:pw@127.0.0.1:${fake.port}/3`)(never);
      assert.equal(result.status, 'healthy', JSON.stringify(result));
      assert.equal(
        fake.received(),
        '*3\r\n$4\r\nAUTH\r\n$3\r\napp\r\n$2\r\npw\r\n' + '*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n' + '*1\r\n$4\r\nPING\r\n',
      );
    } finally {
      await close(fake.server);
    }
  });

  it('parses a reply that arrives in pieces', async () => {
    const fake = await fakeRedis((_, socket) => {
      socket.write('+PO');
      setTimeout(() => socket.write('NG\r\n'), 50);
    });
    try {
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`)(never);
      assert.equal(result.status, 'healthy', JSON.stringify(result));
    } finally {
      await close(fake.server);
    }
  });

  it('is unhealthy on an unexpected reply', async () => {
    const fake = await fakeRedis((_, socket) => socket.write('HTTP/1.1 400 Bad Request\r\n\r\n'));
    try {
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`)(never);
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /unexpected reply/);
    } finally {
      await close(fake.server);
    }
  });

  it('is unhealthy when the server hangs up without answering', async () => {
    const fake = await fakeRedis((_, socket) => socket.end());
    try {
      const result = await redisCheck(`redis://127.0.0.1:${fake.port}`)(never);
      assert.equal(result.status, 'unhealthy');
      assert.match(String(result.message), /closed the connection/);
    } finally {
      await close(fake.server);
    }
  });

  it('is unhealthy, without hanging, for rediss:// against a plain TCP server that answers', async () => {
    const fake = await fakeRedis((_, socket) => socket.write('-ERR Protocol error: unbalanced quotes in request\r\n'));
    try {
      const started = Date.now();
      const result = await redisCheck(`rediss://127.0.0.1:${fake.port}`)(AbortSignal.timeout(3000));
      assert.equal(result.status, 'unhealthy');
      assert.equal(result.connected, false);
      assert.doesNotMatch(String(result.message), /timed out/);
      assert.ok(Date.now() - started < 1000);
      await fake.closed;
    } finally {
      await close(fake.server);
    }
  });

  it('is unhealthy at the abort for rediss:// against the real (plain) Redis, which waits for a newline', async () => {
    const started = Date.now();
    const result = await redisCheck(REDIS_URL.replace(/^redis:/, 'rediss:'))(AbortSignal.timeout(300));
    const took = Date.now() - started;
    assert.equal(result.status, 'unhealthy');
    assert.equal(result.connected, false);
    assert.ok(took < 400, `took ${took} ms`);
  });

  it('is unhealthy for a malformed URL, without showing it', async () => {
    for (const url of ['not a url', 'http://127.0.0.1:6379', 'user:pwCanary@127.0.0.1', 'redis://127.0.0.1/abc', 'redis://:%zz@h']) {
      const result = await redisCheck(url)(never);
      assert.equal(result.status, 'unhealthy', url);
      assert.equal(result.connected, false);
      assert.ok(!JSON.stringify(result).includes('Canary'));
    }
  });
});
