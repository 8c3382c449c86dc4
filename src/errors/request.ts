import type { IncomingMessage } from 'node:http';
import { routeLabel, UNMATCHED } from '../http/route';
import type { Redactor } from '../redaction/policy';

/** What an error report says about its request, redacted: Sentry's `request` shape. */
export interface RequestData {
  readonly method: string | undefined;
  readonly url: string;
  readonly route?: string;
  readonly query_string?: string;
  readonly headers: Record<string, unknown>;
  readonly data?: unknown;
}

interface ExpressLike extends IncomingMessage {
  originalUrl?: string;
  body?: unknown;
}

export function requestData(req: IncomingMessage, redactor: Redactor): RequestData {
  const r = req as ExpressLike;
  const target = typeof r.originalUrl === 'string' ? r.originalUrl : (req.url ?? '/');
  const q = target.indexOf('?');
  const route = routeLabel(req);
  const body = r.body;
  const hasBody = body !== undefined && !(typeof body === 'object' && body !== null && Object.keys(body).length === 0);
  return {
    method: req.method,
    url: redactor.target(target),
    ...(route !== UNMATCHED ? { route } : {}),
    ...(q !== -1 ? { query_string: redactor.query(target.slice(q + 1)) } : {}),
    headers: redactor.headers(req.headers as Record<string, unknown>),
    ...(hasBody ? { data: redactor.body(Buffer.isBuffer(body) ? '[binary]' : body) } : {}),
  };
}
