/**
 * Spawns a fixture app the way users run theirs: `node --require <repo>/register app.js`
 * (or `--import <repo>/register.mjs`), in a child process with a clean environment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { adopt, killChild } from './children';
import type { OtlpSink } from './otlp-sink';
import { waitFor } from './wait';

export const REPO = resolve(__dirname, '..', '..', '..');
export const FIXTURES = join(REPO, 'test', 'fixtures');

export type Preload = 'require' | 'import' | 'none';

export interface AppOptions {
  /** A file of test/fixtures, or an absolute path (an app laid out in a temporary folder). */
  readonly fixture: string;
  readonly preload?: Preload;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Extra node flags before the script (a second --require, say). */
  readonly nodeArgs?: readonly string[];
  /** Arguments after the script. */
  readonly args?: readonly string[];
  /** Wait for "listening <port>" on stdout; false for scripts that are not servers. */
  readonly waitForPort?: boolean;
  readonly readyTimeoutMs?: number;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface RunningApp {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly url: string;
  stdout(): string;
  stderr(): string;
  /** stderr lines that parse as our JSON log records. */
  logLines(): Array<Record<string, unknown>>;
  readonly exited: Promise<Exit>;
  get(path: string, init?: RequestInit): Promise<Response>;
  kill(signal?: NodeJS.Signals): void;
}

export function preloadArgs(preload: Preload): string[] {
  if (preload === 'require') return ['--require', join(REPO, 'register.js')];
  if (preload === 'import') return ['--import', pathToFileURL(join(REPO, 'register.mjs')).href];
  return [];
}

/** Only what a test sets reaches the app: a developer's own OTEL_* must not change results. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** No OTLP anywhere: metrics on an ephemeral loopback health port, no traces. */
export function metricsOnlyEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...baseEnv(),
    INNATURAL_HEALTH_PORT: '0',
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    OTEL_TRACES_EXPORTER: 'none',
    ...extra,
  };
}

/** Point every signal at the sink, export quickly. */
export function sinkEnv(sink: OtlpSink, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_BLRP_SCHEDULE_DELAY: '50',
    OTEL_METRICS_EXPORTER: 'none',
    INNATURAL_HEALTH_PORT: '0',
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    ...extra,
  };
}

export async function startApp(options: AppOptions): Promise<RunningApp> {
  const args = [
    ...preloadArgs(options.preload ?? 'require'),
    ...(options.nodeArgs ?? []),
    isAbsolute(options.fixture) ? options.fixture : join(FIXTURES, options.fixture),
    ...(options.args ?? []),
  ];
  return spawnApp(process.execPath, args, { ...options, label: options.fixture });
}

export interface SpawnOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Defaults to the repository. */
  readonly cwd?: string;
  readonly waitForPort?: boolean;
  readonly readyTimeoutMs?: number;
  /** Names the process in errors. */
  readonly label: string;
  /** A process group of its own, killed whole: a launcher's children (npm's shell, the app) die with it. */
  readonly group?: boolean;
}

/** Any command (node under a preload, npm start, npx...) that prints "listening <port>" once ready. */
export async function spawnApp(command: string, args: readonly string[], options: SpawnOptions): Promise<RunningApp> {
  const env: Record<string, string> = baseEnv();
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  const proc = spawn(command, args, { env, cwd: options.cwd ?? REPO, stdio: ['ignore', 'pipe', 'pipe'], detached: options.group === true });
  const child = adopt(proc, options.group === true);
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolveExit) => proc.on('exit', (code, signal) => resolveExit({ code, signal })));

  let port = 0;
  if (options.waitForPort !== false) {
    port = await new Promise<number>((resolvePort, reject) => {
      const timer = setTimeout(() => {
        // Nobody holds this app to kill it later: a primary that never said "listening" ran on and held the file open.
        killChild(child);
        reject(new Error(`${options.label} did not start in time\nstdout: ${out}\nstderr: ${err}`));
      }, options.readyTimeoutMs ?? 15000);
      const check = () => {
        const match = /listening (\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          proc.stdout!.off('data', check);
          resolvePort(Number(match[1]));
        }
      };
      proc.stdout!.on('data', check);
      void exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${options.label} exited (${exit.code ?? exit.signal}) before listening\nstdout: ${out}\nstderr: ${err}`));
      });
    });
  }
  const url = `http://127.0.0.1:${port}`;
  return {
    proc,
    port,
    url,
    stdout: () => out,
    stderr: () => err,
    logLines: () => parseLogLines(err),
    exited,
    get: (path, init) => fetch(`${url}${path}`, init),
    kill: (signal = 'SIGKILL') => killChild(child, signal),
  };
}

/** The health server's port, from its "listening" log line (tests run it on port 0). */
export async function healthUrl(app: RunningApp, timeoutMs = 5000): Promise<string> {
  const line = await waitFor(
    () => app.logLines().find((l) => l.message === 'Health server listening'),
    timeoutMs,
    'health server',
    () => `no "Health server listening" line\n${app.stderr()}`,
  );
  return `http://127.0.0.1:${String(line.port)}`;
}

export function parseLogLines(text: string): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed.logger === '@innatural/otel') lines.push(parsed);
    } catch {
      // not one of ours
    }
  }
  return lines;
}

/** Runs a script to completion (for exit-status comparisons). */
export async function runToExit(options: AppOptions): Promise<{ exit: Exit; stdout: string; stderr: string }> {
  const app = await startApp({ ...options, waitForPort: options.waitForPort ?? false });
  const exit = await app.exited;
  return { exit, stdout: app.stdout(), stderr: app.stderr() };
}
