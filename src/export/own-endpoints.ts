import type { ResolvedConfig } from '../config/resolve';

/** Where one of our exporters (or Sentry's transport) sends. */
export interface OwnEndpoint {
  /** Lowercase, IPv6 without brackets. */
  readonly host: string;
  /** Always explicit: the scheme's default when the URL has none. */
  readonly port: string;
  /** The URL had no port: a request that names none is on the default port too. */
  readonly defaultPort: boolean;
  readonly path: string;
  /** `path` is a prefix (Sentry's project API) rather than the exact path (an OTLP signal). */
  readonly prefix: boolean;
}

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443' };

const bare = (host: string) => host.toLowerCase().replace(/^\[(.*)\]$/, '$1');

function endpointOf(url: string, path: (u: URL) => string, prefix: boolean): OwnEndpoint | undefined {
  try {
    const u = new URL(url);
    return { host: bare(u.hostname), port: u.port || DEFAULT_PORTS[u.protocol] || '', defaultPort: u.port === '', path: path(u), prefix };
  } catch {
    return undefined;
  }
}

/**
 * The OTLP endpoints of the signals exported over HTTP (gRPC is HTTP/2, which neither the
 * http nor the undici instrumentation sees) and the DSN's project API on Sentry's host,
 * which the envelope and OTLP endpoints are both under.
 */
export function ownEndpoints(config: ResolvedConfig): OwnEndpoint[] {
  const endpoints: Array<OwnEndpoint | undefined> = [];
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    const { exporters, otlp } = config[signal];
    if ((exporters as readonly string[]).includes('otlp') && otlp.protocol !== 'grpc') {
      endpoints.push(endpointOf(otlp.endpoint, (u) => u.pathname, false));
    }
  }
  if (config.sentry) {
    endpoints.push(
      endpointOf(
        config.sentry.dsn,
        (u) => {
          const segments = u.pathname.split('/').filter(Boolean);
          const project = segments.pop() ?? '';
          return `${segments.map((s) => `/${s}`).join('')}/api/${project}/`;
        },
        true,
      ),
    );
  }
  return endpoints.filter((e): e is OwnEndpoint => e !== undefined && e.host !== '');
}

/** What node:http's request options and undici's request objects tell of a destination. */
interface HttpOptions {
  readonly hostname?: string | null;
  readonly host?: string | null;
  readonly port?: number | string | null;
  readonly path?: string | null;
}

interface UndiciRequest {
  readonly origin?: string | URL;
  readonly path?: string;
}

/**
 * Matches outgoing requests against our endpoints, for the instrumentations' ignore hooks:
 * an exporter's retry timer or the SDK's batch timer may fire outside the context in which
 * our exports are suppressed. A host:port lookup first, so the app's other requests cost
 * one Set probe.
 */
export class OwnRequests {
  private readonly byAddress = new Map<string, OwnEndpoint[]>();
  private readonly onDefaultPort = new Map<string, OwnEndpoint[]>();

  constructor(endpoints: readonly OwnEndpoint[]) {
    for (const e of endpoints) {
      push(this.byAddress, `${e.host}:${e.port}`, e);
      if (e.defaultPort) push(this.onDefaultPort, e.host, e);
    }
  }

  get size(): number {
    return this.byAddress.size;
  }

  /** `port` undefined: the request named none. */
  matches(host: string, port: string | undefined, path: string): boolean {
    const candidates = port === undefined ? this.onDefaultPort.get(bare(host)) : this.byAddress.get(`${bare(host)}:${port}`);
    if (!candidates) return false;
    const query = path.indexOf('?');
    const pathname = query === -1 ? path : path.slice(0, query);
    return candidates.some((e) => (e.prefix ? pathname.startsWith(e.path) : pathname === e.path));
  }

  /** For instrumentation-http's `ignoreOutgoingRequestHook`. */
  readonly http = (options: HttpOptions): boolean => {
    const host = options.hostname ?? options.host;
    if (!host) return false;
    const port = options.port === undefined || options.port === null || options.port === '' ? undefined : String(options.port);
    return this.matches(host, port, options.path ?? '/');
  };

  /** For instrumentation-undici's `ignoreRequestHook`. */
  readonly undici = (request: UndiciRequest): boolean => {
    if (!request.origin) return false;
    try {
      const origin = typeof request.origin === 'string' ? new URL(request.origin) : request.origin;
      return this.matches(origin.hostname, origin.port || DEFAULT_PORTS[origin.protocol], request.path ?? '/');
    } catch {
      return false;
    }
  };
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
