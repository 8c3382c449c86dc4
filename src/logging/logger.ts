import type { LogLevel } from '../config/resolve';

export type Severity = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

const RANK: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4, verbose: 5, all: 6 };

export interface Logger {
  readonly level: LogLevel;
  enabled(severity: Severity): boolean;
  log(severity: Severity, message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

export type LineWriter = (line: string) => void;

/**
 * JSON lines on stderr, written straight to the stream: the app's console may be
 * patched by its own logger, and our lines must not go through it or recurse.
 */
export const writeStderr: LineWriter = (line) => {
  try {
    process.stderr.write(line);
  } catch {
    // a closed stderr must not take the app down
  }
};

export function createLogger(level: LogLevel, write: LineWriter = writeStderr): Logger {
  const enabled = (severity: Severity) => RANK[severity] <= RANK[level];
  const log = (severity: Severity, message: string, fields?: Readonly<Record<string, unknown>>) => {
    if (!enabled(severity)) return;
    const record = { level: severity, message, logger: '@innatural/otel', time: new Date().toISOString(), ...fields };
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ level: severity, message, logger: '@innatural/otel', time: record.time });
    }
    write(`${line}\n`);
  };
  return {
    level,
    enabled,
    log,
    error: (m, f) => log('error', m, f),
    warn: (m, f) => log('warn', m, f),
    info: (m, f) => log('info', m, f),
    debug: (m, f) => log('debug', m, f),
  };
}

/** Error to a short string: a message, never a stack (stacks in our lines read as crashes). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
  }
  if (typeof err === 'string') return err;
  return stringify(err);
}

/** Any value as text, for log lines; total over circular, BigInt and prototype-less values. */
export function stringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
