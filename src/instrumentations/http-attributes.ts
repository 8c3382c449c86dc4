import type { Attributes } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

function first(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v;
}

/** `host[:port]` of a Host-style header, IPv6 brackets kept as the conventions show them. */
export function splitHost(value: string, scheme: string | undefined): { host: string; port?: number } {
  const close = value.startsWith('[') ? value.indexOf(']') : -1;
  const colon = close >= 0 ? value.indexOf(':', close) : value.lastIndexOf(':');
  const defaultPort = scheme === 'https' ? 443 : scheme === 'http' ? 80 : undefined;
  if (colon === -1 || (close === -1 && value.indexOf(':') !== colon)) {
    return defaultPort === undefined ? { host: value } : { host: value, port: defaultPort };
  }
  const port = Number(value.slice(colon + 1));
  const host = value.slice(0, colon);
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : { host };
}

/** The first `name=value` of an RFC 7239 Forwarded header, unquoted. */
function forwardedPair(header: string, name: 'host' | 'for' | 'proto'): string | undefined {
  const match = new RegExp(`(?:^|[;,\\s])${name}=("[^"]*"|[^;,\\s]*)`, 'i').exec(header);
  if (!match) return undefined;
  const value = match[1]!;
  return value.startsWith('"') ? value.slice(1, -1) : value;
}

function withoutPort(address: string): string {
  if (address.startsWith('[')) {
    const close = address.indexOf(']');
    return close > 0 ? address.slice(1, close) : address;
  }
  const colon = address.indexOf(':');
  // More than one colon: a bare IPv6 address, which carries no port.
  return colon !== -1 && address.indexOf(':', colon + 1) === -1 ? address.slice(0, colon) : address;
}

/** A proxy's absolute-form target (`http://host/p?q`) as its path and query: url.path is the path alone. */
function originForm(target: string): string {
  if (target.startsWith('/')) return target;
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(target);
  if (!scheme) return target;
  const slash = target.indexOf('/', scheme[0].length);
  const q = target.indexOf('?', scheme[0].length);
  if (slash !== -1 && (q === -1 || slash < q)) return target.slice(slash);
  return q === -1 ? '/' : `/${target.slice(q)}`;
}

/**
 * The stable HTTP semantic-convention attributes of a server request, as
 * instrumentation-http sets them, without building a URL object: `url.path` and
 * `url.query` are the request target split at `?` (the query is redacted at span end
 * by the redaction policy), `server.address`/`server.port` come from Forwarded,
 * X-Forwarded-Host or Host, `client.address` from Forwarded, X-Forwarded-For or the peer.
 */
export function serverRequestAttributes(req: IncomingMessage, scheme: 'http' | 'https'): Attributes {
  const headers = req.headers;
  const raw = req.method ?? 'GET';
  const upper = raw.toUpperCase();
  const method = KNOWN_METHODS.has(upper) ? upper : '_OTHER';
  const socket = req.socket as { remoteAddress?: string; remotePort?: number } | undefined;
  const attributes: Attributes = {
    'http.request.method': method,
    'url.scheme': scheme,
    'network.protocol.version': req.httpVersion,
  };
  if (method !== raw) attributes['http.request.method_original'] = raw;
  const target = originForm(req.url ?? '/');
  const q = target.indexOf('?');
  attributes['url.path'] = q === -1 ? target : target.slice(0, q);
  if (q !== -1 && q < target.length - 1) attributes['url.query'] = target.slice(q + 1);

  const forwarded = first(headers.forwarded);
  const forwardedHost = forwarded === undefined ? undefined : forwardedPair(forwarded, 'host');
  const server = forwardedHost
    ? splitHost(forwardedHost, forwardedPair(forwarded!, 'proto'))
    : first(headers['x-forwarded-host'])
      ? splitHost(first(headers['x-forwarded-host'])!, first(headers['x-forwarded-proto']))
      : first(headers.host)
        ? splitHost(first(headers.host)!, scheme)
        : undefined;
  if (server) {
    attributes['server.address'] = server.host;
    if (server.port !== undefined) attributes['server.port'] = server.port;
  }

  const forwardedFor = forwarded === undefined ? undefined : forwardedPair(forwarded, 'for');
  const xff = first(headers['x-forwarded-for']);
  const client = forwardedFor ?? (xff === undefined ? undefined : xff.split(',')[0]!.trim());
  const peer = socket?.remoteAddress;
  if (client) attributes['client.address'] = withoutPort(client);
  else if (peer) attributes['client.address'] = peer;
  if (peer) attributes['network.peer.address'] = peer;
  if (socket?.remotePort !== undefined) attributes['network.peer.port'] = socket.remotePort;
  const agent = headers['user-agent'];
  if (agent !== undefined) attributes['user_agent.original'] = agent;
  return attributes;
}
