import type { IncomingMessage } from 'node:http';

/** Every request that matched no route shares this label value, so raw paths never become series. */
export const UNMATCHED = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** As the HTTP semantic conventions ask: anything else is `_OTHER`, or a method fuzzer mints series. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
}

interface ExpressRequest extends IncomingMessage {
  route?: { path?: unknown };
  baseUrl?: unknown;
}

/**
 * The matched route template, read once when the response ends: Express leaves the
 * matched Route on `req.route` and the mount path on `req.baseUrl`. Reading it here
 * costs nothing per middleware layer, unlike wrapping every layer to track it.
 */
export function routeLabel(req: IncomingMessage): string {
  const { route } = req as ExpressRequest;
  if (!route || route.path === undefined) return UNMATCHED;
  return routeTemplate(req, route);
}

/** A matched route's full template: the mount path (`req.baseUrl`) and the route's own path. */
export function routeTemplate(req: IncomingMessage, route: { readonly path?: unknown }): string {
  const path = typeof route.path === 'string' ? route.path : String(route.path);
  const base = (req as ExpressRequest).baseUrl;
  if (typeof base !== 'string' || base === '') return path;
  return path === '/' ? base : base + path;
}

/** The path of a request target, without its query string (`/` when there is none). */
export function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
