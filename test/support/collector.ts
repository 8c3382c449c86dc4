/**
 * The real OpenTelemetry Collector distribution built from collector/builder-config.yaml
 * (`npm run collector:build`, cached outside the repository), and a real Prometheus from
 * Debian's package, each started on free loopback ports for one test file.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './app';
import { eventually } from './wait';

export const COLLECTOR_DIR = join(REPO, 'collector');

// collector/build.js is the build script itself, plain CommonJS outside the TypeScript tree.
const build = require(join(COLLECTOR_DIR, 'build.js')) as { binaryPath(): string };

/** The cached binary; `npm test` builds it first (see package.json), so its absence is a failure. */
export function collectorBinary(): string {
  const binary = build.binaryPath();
  if (!existsSync(binary)) throw new Error(`no collector at ${binary}: run npm run collector:build`);
  return binary;
}

/** A port that was free a moment ago: for servers (collector, Prometheus) that cannot report port 0. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `innatural-${prefix}-`));
}

/**
 * A configuration overlay adding a file exporter to the traces pipeline, as a user adds one to
 * see spans locally; merged over the shipped file by a second --config. Returns its path.
 */
export function fileExporterOverlay(dir: string, exporter: string, file: string, pipelineExporters: readonly string[]): string {
  const overlay = join(dir, `${exporter.replace('/', '-')}.yaml`);
  writeFileSync(
    overlay,
    [
      'exporters:',
      `  ${exporter}:`,
      `    path: ${JSON.stringify(file)}`,
      '    flush_interval: 100ms',
      'service:',
      '  pipelines:',
      '    traces:',
      `      exporters: [${[...pipelineExporters, exporter].join(', ')}]`,
      '',
    ].join('\n'),
  );
  return overlay;
}

export interface RunningProcess {
  readonly proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function run(command: string, args: readonly string[], env: Record<string, string>): RunningProcess {
  const proc = spawn(command, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  return {
    proc,
    output: () => out,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface Collector extends RunningProcess {
  readonly otlpHttp: string;
  readonly otlpGrpcPort: number;
  readonly prometheus: string;
  readonly telemetry: string;
}

/**
 * Starts the collector with the shipped configuration file plus optional overlays (extra
 * `--config` files merged over it, as users add their own exporters), ports from the
 * environment variables the shipped files read.
 */
export async function startCollector(config: string, overlays: readonly string[] = [], env: Record<string, string> = {}): Promise<Collector> {
  const [grpc, http, health, prom, telemetry] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  const args = ['--config', config, ...overlays.flatMap((o) => ['--config', o])];
  const running = run(collectorBinary(), args, {
    OTELCOL_OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
    OTELCOL_OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
    OTELCOL_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
    OTELCOL_PROMETHEUS_ENDPOINT: `127.0.0.1:${prom}`,
    OTELCOL_TELEMETRY_HOST: '127.0.0.1',
    OTELCOL_TELEMETRY_PORT: String(telemetry),
    OTELCOL_DEBUG_VERBOSITY: 'basic',
    ...env,
  });
  await eventually(
    async () => {
      if (running.proc.exitCode !== null) throw new Error(`collector exited (${running.proc.exitCode}):\n${running.output()}`);
      return (await fetch(`http://127.0.0.1:${health}/`).catch(() => undefined))?.ok;
    },
    20000,
    'collector health check',
    running.output,
  );
  return {
    ...running,
    otlpHttp: `http://127.0.0.1:${http}`,
    otlpGrpcPort: grpc,
    prometheus: `http://127.0.0.1:${prom}/metrics`,
    telemetry: `http://127.0.0.1:${telemetry}/metrics`,
  };
}

/** `otelcol validate`: the collector's own parse of a configuration, components and all. */
export function validateConfig(config: string, env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(collectorBinary(), ['validate', '--config', config], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export interface Prometheus extends RunningProcess {
  readonly url: string;
  /** An instant query; throws on a query error, so an invalid expression fails the test. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
}

/**
 * Debian's Prometheus with the given configuration text, written beside a copy of
 * collector/alerts.yml (the shipped config names it relatively), storing into a temp dir.
 */
export async function startPrometheus(configText: string): Promise<Prometheus> {
  const dir = tempDir('prometheus');
  writeFileSync(join(dir, 'prometheus.yml'), configText);
  writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(COLLECTOR_DIR, 'alerts.yml')));
  const port = await freePort();
  const running = run('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ], {});
  const url = `http://127.0.0.1:${port}`;
  await eventually(
    async () => {
      if (running.proc.exitCode !== null) throw new Error(`prometheus exited (${running.proc.exitCode}):\n${running.output()}`);
      return (await fetch(`${url}/-/ready`).catch(() => undefined))?.ok;
    },
    20000,
    'prometheus ready',
    running.output,
  );
  return {
    ...running,
    url,
    stop: async () => {
      await running.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    query: async (expr) => {
      const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await res.json()) as { status: string; error?: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? res.status}`);
      return body.data!.result;
    },
  };
}
