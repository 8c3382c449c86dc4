/**
 * The health server under slow and idle clients: slowloris sockets (partial headers,
 * nothing at all, blank lines trickled forever, a body that never ends) are closed within
 * the documented timeouts, probes keep answering while they are held, and a flood above
 * the connection cap evicts the oldest idle sockets rather than locking probes out.
 */
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HEALTH_SERVER_LIMITS } from '../../src/ops/connections';
import { healthUrl, metricsOnlyEnv, startApp, type RunningApp } from '../support/app';
import { waitFor } from '../support/wait';

type Kind = 'partial headers' | 'silent' | 'blank lines' | 'slow body';

interface Held {
  readonly kind: Kind;
  readonly socket: Socket;
  openedAt: number;
  closedAt: number | undefined;
}

const OPENING: Record<Kind, string> = {
  'partial headers': 'GET /api/health/live HTTP/1.1\r\nHost: health\r\nX-Slow: ',
  silent: '',
  // The parser skips blank lines before a request line: no request ever begins.
  'blank lines': '\r\n',
  'slow body': 'POST /api/health/live HTTP/1.1\r\nHost: health\r\nContent-Length: 1000\r\n\r\nabc',
};

/** Each kind also trickles a byte every 400 ms where it can, as a real slowloris does. */
const TRICKLE: Record<Kind, string | undefined> = { 'partial headers': 'a', silent: undefined, 'blank lines': '\r\n', 'slow body': 'b' };

function hold(port: number, kind: Kind): Promise<Held> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const held: Held = { kind, socket, openedAt: 0, closedAt: undefined };
    let trickle: NodeJS.Timeout | undefined;
    socket.on('error', () => {});
    socket.on('data', () => {}); // a 408 or an early answer: read, keep holding
    socket.once('close', () => {
      held.closedAt = performance.now();
      clearInterval(trickle);
    });
    socket.once('connect', () => {
      held.openedAt = performance.now();
      if (OPENING[kind]) socket.write(OPENING[kind]);
      const byte = TRICKLE[kind];
      if (byte) trickle = setInterval(() => socket.writable && socket.write(byte), 400);
      resolve(held);
    });
    socket.once('error', reject);
  });
}

/** One probe on a fresh connection: status and milliseconds. */
function probe(port: number): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/api/health/live', agent: false }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
    }).on('error', reject);
  });
}

describe('health server: slow and idle clients', () => {
  let app: RunningApp;
  let port: number;
  const sockets: Held[] = [];

  before(async () => {
    app = await startApp({ fixture: 'health-app.js', env: metricsOnlyEnv() });
    port = Number(new URL(await healthUrl(app)).port);
  });
  after(() => {
    for (const held of sockets) held.socket.destroy();
    app?.kill();
  });

  it('300 slowloris sockets are closed within the timeouts, and /api/health/live answers while they are held', async () => {
    const { headersTimeoutMs, requestTimeoutMs, checkIntervalMs } = HEALTH_SERVER_LIMITS;
    const kinds: Array<[Kind, number]> = [['partial headers', 150], ['silent', 80], ['blank lines', 50], ['slow body', 20]];
    const held = await Promise.all(kinds.flatMap(([kind, n]) => Array.from({ length: n }, () => hold(port, kind))));
    sockets.push(...held);

    const probes = [];
    for (let i = 0; i < 5; i++) {
      probes.push(await probe(port));
      await new Promise((r) => setTimeout(r, 200));
    }
    const stillHeld = held.filter((h) => h.closedAt === undefined).length;
    assert.ok(stillHeld >= 250, `the probes ran while the sockets were held (${stillHeld} open)`);
    assert.deepEqual(probes.map((p) => p.status), [200, 200, 200, 200, 200]);
    const slowest = Math.max(...probes.map((p) => p.ms));
    assert.ok(slowest < 1000, `slowest probe ${Math.round(slowest)} ms`);

    // Node checks its timeouts every checkIntervalMs; a loaded machine gets a little more.
    const bound: Record<Kind, number> = {
      'partial headers': headersTimeoutMs + checkIntervalMs + 1500,
      silent: headersTimeoutMs + 1500,
      'blank lines': headersTimeoutMs + 1500,
      'slow body': requestTimeoutMs + checkIntervalMs + 1500,
    };
    await waitFor(() => held.every((h) => h.closedAt !== undefined), requestTimeoutMs + checkIntervalMs + 3000, 'slowloris sockets', () =>
      `${held.filter((h) => h.closedAt === undefined).length} still open`,
    );
    const figures: string[] = [];
    for (const [kind] of kinds) {
      const lifetimes = held.filter((h) => h.kind === kind).map((h) => h.closedAt! - h.openedAt);
      const longest = Math.max(...lifetimes);
      const shortest = Math.min(...lifetimes);
      figures.push(`${kind} ${Math.round(shortest)}-${Math.round(longest)} ms`);
      assert.ok(longest <= bound[kind], `${kind}: held up to ${Math.round(longest)} ms, bound ${bound[kind]} ms`);
      // Closed by the timeout, not by something else (300 is far below the connection cap).
      const timeout = kind === 'slow body' ? requestTimeoutMs : headersTimeoutMs;
      assert.ok(shortest >= timeout - 100, `${kind}: one closed after ${Math.round(shortest)} ms, before the ${timeout} ms timeout`);
    }
    console.log(`# 300 slowloris sockets held: ${figures.join(', ')}; probes meanwhile ${probes.map((p) => Math.round(p.ms)).join(', ')} ms`);
  });

  it('above the connection cap, a new connection evicts the oldest idle one: probes still answer', async () => {
    const { maxConnections } = HEALTH_SERVER_LIMITS;
    const extra = 200;
    const held: Held[] = [];
    // In order, so "oldest" is well defined: batches of 100 opened together.
    for (let i = 0; i < maxConnections + extra; i += 100) {
      held.push(...(await Promise.all(Array.from({ length: Math.min(100, maxConnections + extra - i) }, () => hold(port, 'silent')))));
    }
    sockets.push(...held);
    const answers = [await probe(port), await probe(port), await probe(port)];
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    // The first probe, at the cap, evicted one more; its connection closed after the answer, leaving room for the next.
    await waitFor(() => held.filter((h) => h.closedAt !== undefined).length >= extra + 1, 3000, 'evictions', () =>
      `${held.filter((h) => h.closedAt !== undefined).length} closed`,
    );
    const open = held.filter((h) => h.closedAt === undefined).length;
    assert.ok(open <= maxConnections, `${open} open, cap ${maxConnections}`);
    const evicted = held.slice(0, extra).filter((h) => h.closedAt !== undefined).length;
    assert.equal(evicted, extra, 'the oldest went first');
    for (const h of held) h.socket.destroy();
  });
});
