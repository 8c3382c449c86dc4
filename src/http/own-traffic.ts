import type { IncomingMessage } from 'node:http';
import { pathOf } from './route';

/**
 * Servers we own (health, metrics). Their requests must never become spans or app
 * metrics: probes every few seconds would drown the app's own traffic.
 */
const ownServers = new WeakSet<object>();

export function markOwnServer(server: object): void {
  ownServers.add(server);
}

export function isOwnServer(server: object | undefined): boolean {
  return server !== undefined && ownServers.has(server);
}

export function isOwnRequest(req: IncomingMessage): boolean {
  return isOwnServer((req.socket as { server?: object } | undefined)?.server);
}

/** `/internal/*` is a prefix, anything else an exact path; the query string never counts. */
export function pathMatcher(patterns: readonly string[]): (url: string | undefined) => boolean {
  if (patterns.length === 0) return () => false;
  const exact = new Set(patterns.filter((p) => !p.endsWith('*')));
  const prefixes = patterns.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1));
  return (url) => {
    if (!url) return false;
    const path = pathOf(url);
    return exact.has(path) || prefixes.some((p) => path.startsWith(p));
  };
}

export function createIncomingFilter(ignorePaths: readonly string[]): (req: IncomingMessage) => boolean {
  const ignoredPath = pathMatcher(ignorePaths);
  return (req) => isOwnRequest(req) || ignoredPath(req.url);
}
