import { createRequire } from 'node:module';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { describeError } from '../../logging/logger';
import { isInstalled } from '../../modules';
import { errorText, scrub } from './failure';
import type { CheckFn, CheckResult } from './types';

export interface PostgresCheckOptions {
  /**
   * pg's connect and query timeouts, and a backstop of our own in case the caller's
   * signal never fires. Milliseconds; default 5000.
   */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
const APPLICATION_NAME = 'innatural-otel-health';
export const RAW_PROBE_MESSAGE = 'PostgreSQL reachable (pg is not installed: no query run)';

/** The part of pg we use. Typed here: the app's pg may be any 8.x, and we do not depend on it. */
interface PgClient {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
  readonly connection?: { readonly stream?: { destroy(): void } };
}

interface PgModule {
  readonly Client: { new (config: Record<string, unknown>): PgClient; readonly prototype: PgClient };
}

type Query = PgClient['query'];

/**
 * `Client.prototype.query` without the telemetry wrappers around it. suppressTracing stops
 * instrumentation-pg's spans, not its own `db.client.operation.duration` histogram, which
 * would count every probe. Instrumentations wrap with shimmer, which keeps the wrapped
 * function as `__original`.
 */
function unwrappedQuery(pg: PgModule): Query {
  let query: Query & { __original?: unknown } = pg.Client.prototype.query;
  while (typeof query.__original === 'function') query = query.__original as Query & { __original?: unknown };
  return query;
}

type PgLoad = { readonly pg: PgModule } | { readonly pg: undefined; readonly why: string };

/**
 * The app's own pg, from the first search dir where it resolves: the copy the app uses
 * (and that instrumentation-pg patched), never one of ours.
 */
function loadPg(searchDirs: readonly string[]): PgLoad {
  if (!isInstalled('pg', searchDirs)) return { pg: undefined, why: 'pg is not installed' };
  for (const dir of searchDirs) {
    const appRequire = createRequire(join(dir, 'noop.js'));
    let resolved: string;
    try {
      resolved = appRequire.resolve('pg');
    } catch {
      continue;
    }
    try {
      const pg = appRequire(resolved) as Partial<PgModule> | undefined;
      if (typeof pg?.Client === 'function') return { pg: pg as PgModule };
      return { pg: undefined, why: 'pg has no Client export' };
    } catch (err) {
      return { pg: undefined, why: `pg could not be loaded: ${describeError(err)}` };
    }
  }
  return { pg: undefined, why: 'pg is not installed' };
}

interface Target {
  /** `host:port`, or the socket path: the only part of the URL a message may show. */
  readonly where: string;
  readonly connect: { readonly host: string; readonly port: number } | { readonly path: string };
}

const INVALID_URL = 'invalid PostgreSQL URL (expected postgres://[user[:password]@]host[:port]/database)';

/** Host and port for the raw probe, as pg would read them (including `?host=/socket/dir`). */
function parseTarget(url: string): Target | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') return undefined;
  const hostParam = u.searchParams.get('host');
  const portParam = u.searchParams.get('port');
  const port = Number(u.port || portParam || 5432);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  let host = hostParam || u.hostname;
  if (host.startsWith('[')) host = host.slice(1, -1);
  if (host === '') host = 'localhost';
  if (host.startsWith('/')) {
    const path = `${host.replace(/\/$/, '')}/.s.PGSQL.${port}`;
    return { where: path, connect: { path } };
  }
  return { where: `${host.includes(':') ? `[${host}]` : host}:${port}`, connect: { host, port } };
}

/** Everything that must never appear in a message: the URL itself and its password, raw and decoded. */
function secretsOf(url: string): string[] {
  const secrets = [url];
  let password: string | undefined;
  try {
    password = new URL(url).password;
  } catch {
    // Not WHATWG-parseable (pg may still take it): find `scheme://user:password@` by hand.
    password = /^[a-z][a-z0-9+.-]*:\/\/[^:@/]*:([^@]*)@/i.exec(url)?.[1];
  }
  if (password) {
    secrets.push(password);
    try {
      secrets.push(decodeURIComponent(password));
    } catch {
      // A malformed escape: the raw form is already listed.
    }
  }
  return secrets.filter((s) => s !== '').sort((a, b) => b.length - a.length);
}



/** int32 length 8, int32 80877103: "may we speak TLS?". A PostgreSQL server answers one byte, 'S' or 'N'. */
const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

interface Settler {
  readonly done: () => boolean;
  readonly elapsed: () => number;
  readonly finish: (result: CheckResult) => void;
  readonly fail: (message: string) => void;
}

/**
 * The single-settlement frame both probes share: our own backstop timer, the caller's
 * signal, and `cleanup` run exactly once (on success, failure and abort alike).
 */
function settle(
  signal: AbortSignal,
  timeoutMs: number,
  secrets: readonly string[],
  timedOutMessage: string,
  resolve: (result: CheckResult) => void,
  cleanup: () => void,
): Settler {
  const started = performance.now();
  const elapsed = (): number => Math.max(0, Math.round(performance.now() - started));
  let done = false;
  const finish = (result: CheckResult): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    try {
      cleanup();
    } catch {
      // Cleanup is best effort; the result stands.
    }
    resolve(result);
  };
  const fail = (message: string): void =>
    finish({ status: 'unhealthy', connected: false, responseTime: elapsed(), message: scrub(message, secrets) });
  const onAbort = (): void => fail(timedOutMessage);
  signal.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(onAbort, timeoutMs);
  timer.unref();
  if (signal.aborted) onAbort();
  return { done: () => done, elapsed, finish, fail };
}

function pgProbe(
  pg: PgModule,
  url: string,
  where: string,
  signal: AbortSignal,
  timeoutMs: number,
  secrets: readonly string[],
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let client: PgClient | undefined;
    let ended = false;
    const s = settle(signal, timeoutMs, secrets, `PostgreSQL check timed out (${where})`, resolve, () => {
      if (!client || ended) return;
      // end() alone can wait on a server that never answers; destroying the stream cannot.
      client.end().catch(() => undefined);
      client.connection?.stream?.destroy();
    });
    if (s.done()) return;
    try {
      client = new pg.Client({
        connectionString: url,
        connectionTimeoutMillis: timeoutMs,
        statement_timeout: timeoutMs,
        query_timeout: timeoutMs,
        application_name: APPLICATION_NAME,
      });
    } catch (err) {
      s.fail(`PostgreSQL: ${errorText(err)}`);
      return;
    }
    const c = client;
    // An idle client with no listener would crash the app on a late socket error.
    c.on('error', () => undefined);
    (async () => {
      await c.connect();
      await unwrappedQuery(pg).call(c, 'SELECT 1');
      const responseTime = s.elapsed();
      await c.end();
      ended = true;
      return responseTime;
    })().then(
      (responseTime) => s.finish({ status: 'healthy', connected: true, responseTime }),
      (err: unknown) => s.fail(`PostgreSQL at ${where}: ${errorText(err)}`),
    );
  });
}

function rawProbe(
  target: Target,
  signal: AbortSignal,
  timeoutMs: number,
  secrets: readonly string[],
  healthyMessage: string,
): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    let socket: Socket | undefined;
    let secure: TLSSocket | undefined;
    let graceful = false;
    const s = settle(signal, timeoutMs, secrets, `PostgreSQL check timed out (${target.where})`, resolve, () => {
      if (graceful && secure) {
        // close_notify, then the server closes: no log line on its side. Destroyed regardless after a second.
        const tls = secure;
        const force = setTimeout(() => tls.destroy(), 1000);
        force.unref();
        tls.once('close', () => clearTimeout(force));
        tls.end();
        return;
      }
      secure?.destroy();
      socket?.destroy();
    });
    if (s.done()) return;
    const healthy = (): void => {
      graceful = true;
      s.finish({ status: 'healthy', connected: true, responseTime: s.elapsed(), message: healthyMessage });
    };
    try {
      socket = netConnect(target.connect);
    } catch (err) {
      s.fail(`PostgreSQL at ${target.where}: ${errorText(err)}`);
      return;
    }
    const plain = socket;
    const closedEarly = (): void => s.fail(`PostgreSQL at ${target.where} closed the connection before answering`);
    plain.once('data', (chunk: Buffer) => {
      const reply = chunk[0];
      if (reply === 0x4e /* N */) {
        healthy();
      } else if (reply === 0x53 /* S */) {
        // Hanging up in the middle of the handshake costs a "could not accept SSL connection"
        // line in the server's log per probe; finishing it (no data sent, so no certificate
        // check needed) and closing cleanly costs none.
        plain.removeListener('close', closedEarly);
        secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
        secure.once('secureConnect', healthy);
        secure.on('error', (err) => s.fail(`PostgreSQL at ${target.where}: TLS: ${errorText(err)}`));
        secure.on('close', () => s.fail(`PostgreSQL at ${target.where} closed the connection during TLS`));
      } else {
        s.fail(`${target.where} does not answer like a PostgreSQL server`);
      }
    });
    plain.on('error', (err) => s.fail(`PostgreSQL at ${target.where}: ${errorText(err)}`));
    plain.on('close', closedEarly);
    plain.write(SSL_REQUEST);
  });
}

/**
 * PostgreSQL, through the app's own pg when it has one (a dedicated client: connect,
 * `SELECT 1`, end), else a raw SSLRequest probe that proves something speaking
 * PostgreSQL listens there. pg is looked up at `prepare()` or the first run, not here:
 * loading it before the instrumentations are registered would leave the app's copy unpatched.
 * The whole check runs with tracing suppressed, so it never shows up as app telemetry.
 */
export function postgresCheck(url: string, searchDirs: readonly string[], options: PostgresCheckOptions = {}): CheckFn {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = secretsOf(url);
  let loaded: PgLoad | undefined;
  const check = (signal: AbortSignal) =>
    context.with(suppressTracing(context.active()), async (): Promise<CheckResult> => {
      try {
        loaded ??= loadPg(searchDirs);
        const target = parseTarget(url);
        if (loaded.pg) {
          // pg also takes forms WHATWG URL does not (`postgres://u:p@/db?host=/run/postgresql`): let it judge.
          if (!/^(postgres(ql)?:\/\/|socket:)/i.test(url)) {
            return { status: 'unhealthy', connected: false, responseTime: 0, message: INVALID_URL };
          }
          return await pgProbe(loaded.pg, url, target?.where ?? 'the configured server', signal, timeoutMs, secrets);
        }
        if (!target) return { status: 'unhealthy', connected: false, responseTime: 0, message: INVALID_URL };
        const healthyMessage =
          loaded.why === 'pg is not installed' ? RAW_PROBE_MESSAGE : `PostgreSQL reachable (${loaded.why}: no query run)`;
        return await rawProbe(target, signal, timeoutMs, secrets, scrub(healthyMessage, secrets));
      } catch (err) {
        // Nothing above should throw; a check that does must still answer.
        return { status: 'unhealthy', connected: false, message: scrub(`PostgreSQL check failed: ${errorText(err)}`, secrets) };
      }
    });
  return Object.assign(check, {
    prepare: () => {
      loaded ??= loadPg(searchDirs);
    },
  });
}
