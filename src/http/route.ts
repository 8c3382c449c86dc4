import type { IncomingMessage } from 'node:http';

/** Every request that matched no route shares this label value, so raw paths never become series. */
export const UNMATCHED = 'unmatched';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** As the HTTP semantic conventions ask: anything else is `_OTHER`, or a method fuzzer mints series. */
export function methodLabel(method: string | undefined): string {
  return method !== undefined && KNOWN_METHODS.has(method) ? method : '_OTHER';
}

// Per-request state lives on the request itself: a property costs less than a WeakMap lookup,
// and a symbol is invisible to the app's own enumeration of `req`.
const MOUNT = Symbol('innatural.mountTemplate');
const ROUTE = Symbol('innatural.routeTemplate');
const ROUTE_OF = Symbol('innatural.routeTemplateOf');

interface Tracked extends IncomingMessage {
  route?: { path?: unknown };
  [MOUNT]?: string;
  [ROUTE]?: string;
  [ROUTE_OF]?: unknown;
}

/** A registered path (string, RegExp, or an array of them, as Express takes) is one of these. */
export type RegisteredPath = unknown;

/**
 * The keys under which `router` (>= 2.3) leaves the pattern that matched on the request
 * (one per copy of router loaded): how an array path tells which of its alternatives matched.
 */
const matchedPatternKeys: symbol[] = [];

export function addMatchedPatternKey(key: symbol): void {
  if (!matchedPatternKeys.includes(key)) matchedPatternKeys.push(key);
}

/** One path as text: a RegExp as its literal (`/^\/v\d+/`), never a request's concrete path. */
function pathText(path: unknown): string {
  return typeof path === 'string' ? path : String(path);
}

/**
 * The alternative of an array path that matched this request, when the router says which;
 * else every alternative, comma-joined (as the stock express instrumentation names them).
 */
function alternative(paths: readonly unknown[], req: IncomingMessage): unknown {
  for (const key of matchedPatternKeys) {
    const matched = (req as unknown as Record<symbol, unknown>)[key];
    if (matched !== undefined && paths.flat(Infinity).includes(matched)) return matched;
  }
  return undefined;
}

/**
 * A mount path's share of the template, as Express's `req.baseUrl` has it: no trailing
 * slash, and nothing for `/`. An array without a known match joins its alternatives.
 */
export function mountTemplate(path: RegisteredPath, req?: IncomingMessage): string {
  if (Array.isArray(path)) {
    const matched = req && alternative(path, req);
    if (matched !== undefined) return mountTemplate(matched);
    return path.flat(Infinity).map((p) => mountTemplate(p)).join(',');
  }
  if (typeof path !== 'string') return pathText(path);
  let end = path.length;
  while (end > 0 && path.charCodeAt(end - 1) === 0x2f) end--;
  return end === path.length ? path : path.slice(0, end);
}

/** A route's own path: as registered (a trailing slash matters to strict routing). */
export function routePathTemplate(path: RegisteredPath, req?: IncomingMessage): string {
  if (Array.isArray(path)) {
    const matched = req && alternative(path, req);
    if (matched !== undefined) return pathText(matched);
  }
  return pathText(path);
}

/**
 * A template after its prefix: `/` under a mount is the mount itself (what `req.baseUrl`
 * + `/` gave before), and a prefix ending in `/` (a RegExp literal) does not double it.
 */
export function joinRoute(prefix: string, path: string): string {
  if (prefix === '') return path;
  if (path === '/' || path === '') return prefix;
  if (prefix.charCodeAt(prefix.length - 1) === 0x2f && path.charCodeAt(0) === 0x2f) return prefix + path.slice(1);
  return prefix + path;
}

/**
 * Entering a layer mounted at `template` (a router, a sub-app, a middleware): the mount
 * templates of every router the request is in, joined. Returns what to restore on leaving.
 */
export function enterMount(req: IncomingMessage, template: string): string | undefined {
  const r = req as Tracked;
  const previous = r[MOUNT];
  r[MOUNT] = joinRoute(previous ?? '', template);
  return previous;
}

/**
 * Leaving a mounted layer (its next(), an error, the router's exit). A route matched inside
 * it (`req.route` is not what it was on entering) has its full template kept first: the
 * request may yet be answered outside, and the label is that route's. Routes pay nothing
 * of their own this way; only mounted layers do, on the way out.
 */
export function leaveMount(req: IncomingMessage, previous: string | undefined, routeOnEntry: unknown): void {
  const r = req as Tracked;
  const route = r.route;
  if (route !== routeOnEntry && route !== undefined && r[ROUTE_OF] !== route) {
    r[ROUTE_OF] = route;
    r[ROUTE] = routeTemplate(req, route);
  }
  r[MOUNT] = previous;
}

/** The full template of a route for this request: every mount template above it, then its path. */
export function routeTemplate(req: IncomingMessage, route: { readonly path?: unknown }): string {
  return joinRoute((req as Tracked)[MOUNT] ?? '', routePathTemplate(route.path, req));
}

/**
 * The matched route template, read once when the response ends: the mount templates the
 * request is still inside, then the route's path; or, when it was answered after leaving
 * the route's mounts, the template kept on leaving. Never from `req.baseUrl` or the URL:
 * those hold the concrete values of mount parameters. (One Route matched again, later in
 * the same request, through a second mount of its router is named by the first.)
 */
export function routeLabel(req: IncomingMessage): string {
  const r = req as Tracked;
  const { route } = r;
  if (!route || route.path === undefined) return UNMATCHED;
  return r[ROUTE_OF] === route ? r[ROUTE]! : routeTemplate(req, route);
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]{0,31}:\/\//;

/**
 * A route label the app hands over (the business-metrics API): the path only. No query
 * string or fragment (`/api/reset?token=...`), and no scheme or authority of a full URL,
 * where credentials live. Empty when nothing of a path is left.
 */
export function routeOfLabel(value: string): string {
  let end = value.length;
  const q = value.indexOf('?');
  if (q !== -1) end = q;
  const h = value.indexOf('#');
  if (h !== -1 && h < end) end = h;
  let path = end === value.length ? value : value.slice(0, end);
  const scheme = SCHEME.exec(path);
  if (scheme) {
    const slash = path.indexOf('/', scheme[0].length);
    path = slash === -1 ? '/' : path.slice(slash);
  }
  return path;
}

/** The path of a request target, without its query string (`/` when there is none). */
export function pathOf(url: string | undefined): string {
  const target = url ?? '/';
  const q = target.indexOf('?');
  return q === -1 ? target : target.slice(0, q);
}
