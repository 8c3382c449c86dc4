import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { errorText, scrub } from './failure';
import type { CheckFn, CheckResult } from './types';

export interface RedisCheckOptions {
  /** A backstop of our own, in case the caller's signal never fires. Milliseconds; default 5000. */
  readonly timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** A reply line longer than this is not a Redis status reply: stop reading. */
const MAX_LINE = 4096;
/** AUTH's reply when the server has no password (Redis 6+, then earlier versions). */
const NO_PASSWORD_SET = /without any password configured|no password is set/i;

interface Step {
  readonly command: readonly string[];
  readonly expect: string;
}

interface RedisTarget {
  readonly host: string;
  readonly port: number;
  readonly tls: boolean;
  /** `host:port`, the only part of the URL a message may show. */
  readonly where: string;
  readonly steps: readonly Step[];
  readonly secrets: readonly string[];
}

const INVALID_URL = 'invalid Redis URL (expected redis://[[user]:password@]host[:port][/db] or rediss://...)';

function parseTarget(url: string): RedisTarget | string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return INVALID_URL;
  }
  if ((u.protocol !== 'redis:' && u.protocol !== 'rediss:') || u.hostname === '') return INVALID_URL;
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  const port = u.port === '' ? 6379 : Number(u.port);
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    return INVALID_URL;
  }
  const steps: Step[] = [];
  if (password !== '') {
    steps.push({ command: username !== '' ? ['AUTH', username, password] : ['AUTH', password], expect: 'OK' });
  }
  const db = u.pathname.replace(/^\//, '');
  if (db !== '') {
    if (!/^\d+$/.test(db)) return 'invalid Redis URL: the path must be a database number';
    if (Number(db) !== 0) steps.push({ command: ['SELECT', String(Number(db))], expect: 'OK' });
  }
  steps.push({ command: ['PING'], expect: 'PONG' });
  return {
    host,
    port,
    tls: u.protocol === 'rediss:',
    where: `${u.hostname}:${port}`,
    steps,
    secrets: [url, password, u.password].filter((s) => s !== ''),
  };
}

/** RESP array of bulk strings: what redis-cli sends. */
function encode(command: readonly string[]): string {
  let out = `*${command.length}\r\n`;
  for (const arg of command) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}



/** A reply shown in a message: bounded and printable. */
function quote(line: string): string {
  const printable = line.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(printable.length > 80 ? `${printable.slice(0, 80)}...` : printable);
}

/**
 * Redis without a client library: one connection, optional AUTH and SELECT from the URL,
 * then PING. The socket is ours alone and is destroyed as soon as the answer is known.
 * Tracing is suppressed, so the net, tls and dns instrumentations (if turned on) see nothing of it.
 */
export function redisCheck(url: string, options: RedisCheckOptions = {}): CheckFn {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return (signal) => context.with(suppressTracing(context.active()), () => probe(url, timeoutMs, signal));
}

function probe(url: string, timeoutMs: number, signal: AbortSignal): Promise<CheckResult> {
  return new Promise<CheckResult>((resolve) => {
    const started = performance.now();
    const elapsed = (): number => Math.max(0, Math.round(performance.now() - started));
    const target = parseTarget(url);
    if (typeof target === 'string') {
      resolve({ status: 'unhealthy', connected: false, responseTime: elapsed(), message: target });
      return;
    }
    const timedOut = `Redis check timed out (${target.where})`;
    if (signal.aborted) {
      resolve({ status: 'unhealthy', connected: false, responseTime: elapsed(), message: timedOut });
      return;
    }

    let socket: Socket | undefined;
    let done = false;
    const finish = (result: CheckResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket?.destroy();
      resolve(result);
    };
    const fail = (message: string): void =>
      finish({ status: 'unhealthy', connected: false, responseTime: elapsed(), message: scrub(message, target.secrets) });
    const onAbort = (): void => fail(timedOut);
    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(onAbort, timeoutMs);
    timer.unref();

    try {
      socket = target.tls
        ? tlsConnect({ host: target.host, port: target.port, ...(isIP(target.host) ? {} : { servername: target.host }) })
        : netConnect({ host: target.host, port: target.port });
    } catch (err) {
      fail(`Redis at ${target.where}: ${errorText(err)}`);
      return;
    }

    let step = 0;
    let buffer = '';
    const onLine = (line: string): void => {
      const current = target.steps[step]!;
      const name = current.command[0]!;
      if (line.startsWith('-')) {
        const text = line.slice(1);
        // As ioredis does: a password the server does not need is no failure; go on to PING.
        if (!(name === 'AUTH' && NO_PASSWORD_SET.test(text))) {
          const auth = name === 'AUTH' || /^(NOAUTH|WRONGPASS)\b/.test(text);
          fail(`Redis ${auth ? 'authentication' : name} failed (${target.where}): ${text}`);
          return;
        }
      } else if (line !== `+${current.expect}`) {
        fail(`unexpected reply to ${name} from ${target.where}: ${quote(line)}`);
        return;
      }
      step += 1;
      if (step === target.steps.length) {
        finish({ status: 'healthy', connected: true, responseTime: elapsed(), message: 'Redis operational' });
      } else {
        socket!.write(encode(target.steps[step]!.command));
      }
    };

    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1');
      for (let end = buffer.indexOf('\r\n'); end !== -1 && !done; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        onLine(line);
      }
      if (!done && buffer.length > MAX_LINE) fail(`unexpected reply from ${target.where}: ${quote(buffer)}`);
    });
    socket.on('error', (err) => fail(`Redis at ${target.where}: ${errorText(err)}`));
    socket.on('close', () => fail(`Redis at ${target.where} closed the connection before answering`));
    // Written before the connection is up: the socket buffers it (until the TLS handshake, for rediss://).
    socket.write(encode(target.steps[0]!.command));
  });
}
