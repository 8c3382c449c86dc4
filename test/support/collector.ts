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
import { adopt } from './children';
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
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
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
  /** SIGKILL, as a crashed process or an evicted pod: no flush, no goodbye. */
  kill(): Promise<void>;
}

function run(command: string, args: readonly string[], env: Record<string, string>): RunningProcess {
  const proc = spawn(command, args, { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  adopt(proc);
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
    kill: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export interface Collector extends RunningProcess {
  readonly otlpHttp: string;
  readonly otlpGrpcPort: number;
  /** host:port of the OTLP gRPC receiver: what an agent's load_balancing exporter is given. */
  readonly otlpGrpc: string;
  readonly prometheus: string;
  readonly telemetry: string;
}

export interface CollectorOptions {
  /** The OTLP gRPC receiver's address (default: 127.0.0.1 on a free port). */
  readonly grpcEndpoint?: string;
  /** Runs the collector through this command: [command, ...args] before the collector's own. */
  readonly wrapper?: readonly string[];
}

/**
 * Where traces go by default in tests: the static resolver, at an address nothing listens on,
 * the DNS resolver (when a test picks it) at localhost, and remote write at a refusing port. No
 * test reaches the shipped defaults (names for Kubernetes), so no lookup ever leaves the machine.
 */
const LOOPBACK_DEFAULTS = {
  OTELCOL_GATEWAY_RESOLVER: 'static',
  OTELCOL_GATEWAY_ENDPOINTS: '127.0.0.1:9',
  OTELCOL_GATEWAY_DNS_HOSTNAME: 'localhost',
  OTELCOL_REMOTE_WRITE_ENDPOINT: 'http://127.0.0.1:9/api/v1/write',
};

/**
 * Starts the collector with the shipped configuration file plus optional overlays (extra
 * `--config` files merged over it, as users add their own exporters), ports from the
 * environment variables the shipped files read.
 */
export async function startCollector(
  config: string,
  overlays: readonly string[] = [],
  env: Record<string, string> = {},
  options: CollectorOptions = {},
): Promise<Collector> {
  const [http, health, prom, telemetry] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const grpcEndpoint = options.grpcEndpoint ?? `127.0.0.1:${await freePort()}`;
  const grpc = Number(grpcEndpoint.slice(grpcEndpoint.lastIndexOf(':') + 1));
  const args = ['--config', config, ...overlays.flatMap((o) => ['--config', o])];
  const [command, ...wrapperArgs] = [...(options.wrapper ?? []), collectorBinary()];
  const running = run(command!, [...wrapperArgs, ...args], {
    ...LOOPBACK_DEFAULTS,
    OTELCOL_OTLP_GRPC_ENDPOINT: grpcEndpoint,
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
    otlpGrpc: grpcEndpoint,
    prometheus: `http://127.0.0.1:${prom}/metrics`,
    telemetry: `http://127.0.0.1:${telemetry}/metrics`,
  };
}

/** `otelcol validate`: the collector's own parse of a configuration, components and all. */
export function validateConfig(config: string, env: Record<string, string> = {}): { status: number | null; output: string } {
  const r = spawnSync(collectorBinary(), ['validate', '--config', config], { env: { PATH: process.env.PATH ?? '', ...LOOPBACK_DEFAULTS, ...env }, encoding: 'utf8' });
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
export async function startPrometheus(configText: string, extraArgs: readonly string[] = []): Promise<Prometheus> {
  const dir = tempDir('prometheus');
  writeFileSync(join(dir, 'prometheus.yml'), configText);
  writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(COLLECTOR_DIR, 'alerts.yml')));
  const port = await freePort();
  const running = run('prometheus', [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    ...extraArgs,
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

/** The collector's own metrics (its telemetry endpoint), summed over the series matching `match`. */
export async function telemetryValue(collector: Collector, name: string, match: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(collector.telemetry)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labels = Object.fromEntries([...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export interface ExportedSpan {
  traceId: string;
  spanId: string;
  name: string;
  /** OTLP numbering: 1 internal, 2 server, 3 client. */
  kind: number;
  service: string;
  status: number;
  durationMs: number;
  /** String and integer attributes. */
  attributes: Record<string, string>;
}

type JsonValue = { stringValue?: string; intValue?: string | number };

/** Spans a file exporter wrote (OTLP/JSON lines), in order; an absent file is no spans yet. */
export function readSpanFile(file: string): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  const text = readFileSync(file, { encoding: 'utf8', flag: 'a+' });
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const batch = JSON.parse(line) as {
      resourceSpans: Array<{
        resource?: { attributes?: Array<{ key: string; value: JsonValue }> };
        scopeSpans: Array<{
          spans: Array<{
            traceId: string;
            spanId: string;
            name: string;
            kind?: number;
            status?: { code?: number };
            startTimeUnixNano: string;
            endTimeUnixNano: string;
            attributes?: Array<{ key: string; value: JsonValue }>;
          }>;
        }>;
      }>;
    };
    for (const rs of batch.resourceSpans) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
      for (const ss of rs.scopeSpans) {
        for (const sp of ss.spans) {
          out.push({
            traceId: sp.traceId,
            spanId: sp.spanId,
            name: sp.name,
            kind: sp.kind ?? 0,
            service,
            status: sp.status?.code ?? 0,
            durationMs: Number((BigInt(sp.endTimeUnixNano) - BigInt(sp.startTimeUnixNano)) / 1_000_000n),
            attributes: Object.fromEntries(
              (sp.attributes ?? []).flatMap((a) => {
                const v = a.value.stringValue ?? a.value.intValue;
                return v === undefined ? [] : [[a.key, String(v)]];
              }),
            ),
          });
        }
      }
    }
  }
  return out;
}

/** Span ids by trace id. */
export function byTrace(spans: readonly ExportedSpan[]): Map<string, Set<string>> {
  const traces = new Map<string, Set<string>>();
  for (const s of spans) {
    let ids = traces.get(s.traceId);
    if (!ids) traces.set(s.traceId, (ids = new Set()));
    ids.add(s.spanId);
  }
  return traces;
}

export interface Gateway extends Collector {
  /** Where this replica's file exporter writes the traces it keeps. */
  readonly file: string;
  spans(): ExportedSpan[];
}

/**
 * Gateway replicas (collector/gateway.yaml as shipped) with a file exporter beside the backend
 * exporter, so a test sees what each replica kept. `grpcEndpoints`, when given, are the replicas'
 * OTLP gRPC addresses (one per replica), as a resolver will know them.
 */
export async function startGateways(
  count: number,
  env: Record<string, string>,
  grpcEndpoints: readonly string[] = [],
): Promise<Gateway[]> {
  const dir = tempDir('gateways');
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const file = join(dir, `replica-${i}.jsonl`);
      const overlay = fileExporterOverlay(dir, `file/replica-${i}`, file, ['otlp_http/backend']);
      const endpoint = grpcEndpoints[i];
      const gateway = await startCollector(join(COLLECTOR_DIR, 'gateway.yaml'), [overlay], env, endpoint ? { grpcEndpoint: endpoint } : {});
      return { ...gateway, file, spans: () => readSpanFile(file) };
    }),
  );
}

const hex = (bytes: number) => Array.from({ length: bytes }, () => Math.floor(Math.random() * 256).toString(16).padStart(2, '0')).join('');
const kv = (key: string, value: string) => ({ key, value: { stringValue: value } });

export interface TraceShape {
  /** Root (server) span duration. */
  readonly durationMs: number;
  /** An error status on one child span. */
  readonly error?: boolean;
}

export interface GeneratedTrace {
  readonly traceId: string;
  readonly spanIds: readonly string[];
  readonly error: boolean;
  readonly slow: boolean;
}

/**
 * Multi-span traces as an instrumented service makes them (a server span, a PostgreSQL query, a
 * Redis call, an outgoing HTTP call), sent to an OTLP/HTTP receiver the way SDKs send them: the
 * children end first and go in one export, the root in a later one, so a trace arrives in parts
 * and only routing by trace id keeps its parts together.
 */
export class TraceGenerator {
  private readonly pendingRoots: unknown[] = [];

  constructor(
    private readonly url: string,
    private readonly service = 'generated-shop',
    private readonly slowMs = 2000,
  ) {}

  /** Sends the children of `shapes` now and the roots of the previous call; returns the traces. */
  async send(shapes: readonly TraceShape[]): Promise<GeneratedTrace[]> {
    const now = Date.now() * 1e6;
    const children: unknown[] = [];
    const roots: unknown[] = [];
    const traces = shapes.map((shape) => {
      const traceId = hex(16);
      const rootId = hex(8);
      const start = now - shape.durationMs * 1e6;
      const child = (name: string, kind: number, offsetMs: number, ms: number, attrs: ReturnType<typeof kv>[], error = false) => {
        const spanId = hex(8);
        children.push({
          traceId,
          spanId,
          parentSpanId: rootId,
          name,
          kind,
          startTimeUnixNano: String(start + offsetMs * 1e6),
          endTimeUnixNano: String(start + (offsetMs + ms) * 1e6),
          attributes: attrs,
          status: error ? { code: 2, message: 'upstream failed' } : {},
        });
        return spanId;
      };
      const step = Math.max(1, Math.floor(shape.durationMs / 4));
      const ids = [
        child('SELECT shop', 3, 0, step, [kv('db.system.name', 'postgresql')]),
        child('GET', 3, step, step, [kv('db.system.name', 'redis')]),
        child('POST', 3, 2 * step, step, [kv('server.address', 'payments.internal')], shape.error === true),
      ];
      roots.push({
        traceId,
        spanId: rootId,
        name: 'GET /api/orders/:id',
        kind: 2,
        startTimeUnixNano: String(start),
        endTimeUnixNano: String(now),
        attributes: [kv('http.route', '/api/orders/:id'), kv('http.request.method', 'GET')],
        status: {},
      });
      return { traceId, spanIds: [rootId, ...ids], error: shape.error === true, slow: shape.durationMs > this.slowMs };
    });
    await this.post([...children, ...this.pendingRoots.splice(0)]);
    this.pendingRoots.push(...roots);
    return traces;
  }

  /** Sends the roots still held back. */
  async flush(): Promise<void> {
    if (this.pendingRoots.length > 0) await this.post(this.pendingRoots.splice(0));
  }

  private async post(spans: unknown[]): Promise<void> {
    if (spans.length === 0) return;
    const res = await fetch(`${this.url}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceSpans: [{ resource: { attributes: [kv('service.name', this.service), kv('service.instance.id', `${this.service}-1`)] }, scopeSpans: [{ scope: { name: 'generator' }, spans }] }],
      }),
    });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`agent answered ${res.status}: ${body}`);
  }
}

/**
 * A name service of the test's own for one collector, as a Kubernetes headless Service is for
 * the agent's DNS resolver: the collector runs in its own mount namespace (`unshare -rm`, no
 * privilege needed) where `hosts` is /etc/hosts and /etc/resolv.conf names 127.0.0.1, where
 * nothing answers. Every lookup is answered from the file or fails on loopback; none leaves
 * the machine. `set()` rewrites the file in place, as the endpoints controller updates the
 * Service (Go re-reads /etc/hosts at most every 5 s).
 */
export interface NameService {
  /** startCollector's `wrapper` option. */
  readonly wrapper: readonly string[];
  set(records: ReadonlyArray<readonly [ip: string, name: string]>): void;
}

export function nameService(records: ReadonlyArray<readonly [ip: string, name: string]>): NameService {
  const probe = spawnSync('unshare', ['-rm', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    throw new Error(`this test gives the collector its own /etc/hosts with unshare -rm (user and mount namespaces), which failed here: ${probe.error?.message ?? probe.stderr}`);
  }
  const dir = tempDir('names');
  const hosts = join(dir, 'hosts');
  const set = (rs: ReadonlyArray<readonly [string, string]>) =>
    writeFileSync(hosts, ['127.0.0.1 localhost', ...rs.map(([ip, name]) => `${ip} ${name}`), ''].join('\n'));
  set(records);
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n');
  const script = 'mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$@"';
  return { wrapper: ['unshare', '-rm', 'sh', '-c', script, dir], set };
}

/** The instrumented app exporting every signal but logs to an agent collector, quickly, health server on an ephemeral port. */
export function agentAppEnv(service: string, agentOtlpHttp: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    OTEL_SERVICE_NAME: service,
    OTEL_EXPORTER_OTLP_ENDPOINT: agentOtlpHttp,
    OTEL_METRICS_EXPORTER: 'otlp',
    OTEL_METRIC_EXPORT_INTERVAL: '500',
    OTEL_BSP_SCHEDULE_DELAY: '50',
    OTEL_LOGS_EXPORTER: 'none',
    INNATURAL_HEALTH_PORT: '0',
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    ...extra,
  };
}

/** GETs `paths` together every 100 ms for `ms`, recording each answer's status. */
export async function driveFor(app: { get(path: string): Promise<Response> }, paths: readonly string[], ms: number, statuses: number[]): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const answers = await Promise.all(paths.map((p) => app.get(p)));
    for (const a of answers) {
      statuses.push(a.status);
      await a.arrayBuffer();
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
