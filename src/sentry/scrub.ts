import type { Breadcrumb, ErrorEvent } from '@sentry/node';
import type { Redactor } from '../redaction/policy';

/** Contexts Sentry fills itself with runtime facts, not user data. */
const SDK_CONTEXTS = new Set(['trace', 'runtime', 'os', 'device', 'app', 'culture', 'cloud_resource', 'otel']);

/** beforeSend: the last gate before an event leaves the process, whatever filled it. */
export function scrubEvent(event: ErrorEvent, redactor: Redactor): ErrorEvent {
  if (event.message) event.message = redactor.text(event.message);
  if (event.logentry?.message) event.logentry.message = redactor.text(event.logentry.message);
  for (const value of event.exception?.values ?? []) {
    if (value.value) value.value = redactor.text(value.value);
    for (const frame of value.stacktrace?.frames ?? []) scrubFrame(frame, redactor);
  }
  if (event.request) {
    const req = event.request;
    if (req.url) req.url = /^[a-z][a-z0-9+.-]*:\/\//i.test(req.url) ? redactor.url(req.url) : redactor.target(req.url);
    if (typeof req.query_string === 'string') req.query_string = redactor.query(req.query_string);
    else if (Array.isArray(req.query_string)) {
      // Sentry also allows [key, value] pairs: the key decides.
      req.query_string = req.query_string.map(([k, v]) => [k, redactor.isSecretKey(String(k)) ? '[REDACTED]' : redactor.text(String(v))]) as typeof req.query_string;
    } else if (req.query_string) req.query_string = redactor.value(req.query_string) as typeof req.query_string;
    if (req.headers) req.headers = redactor.headers(req.headers) as Record<string, string>;
    if (req.cookies) req.cookies = { cookies: '[REDACTED]' };
    if (req.data !== undefined) req.data = redactor.body(req.data);
  }
  if (event.extra) event.extra = redactor.value(event.extra) as Record<string, unknown>;
  if (event.tags) event.tags = redactor.value(event.tags) as typeof event.tags;
  if (event.contexts) {
    for (const [name, ctx] of Object.entries(event.contexts)) {
      if (!SDK_CONTEXTS.has(name)) event.contexts[name] = redactor.value(ctx) as typeof ctx;
    }
  }
  if (event.breadcrumbs) event.breadcrumbs = event.breadcrumbs.map((b) => scrubBreadcrumb(b, redactor));
  if (event.user) event.user = { id: event.user.id };
  return event;
}

type Frame = NonNullable<NonNullable<NonNullable<ErrorEvent['exception']>['values']>[number]['stacktrace']>['frames'] extends
  | Array<infer F>
  | undefined
  ? F
  : never;

/**
 * Sentry attaches the source lines around each frame: `const ADMIN_PASSWORD = '...'` two lines
 * above a throw is a secret in the event as much as in the code.
 */
function scrubFrame(frame: Frame, redactor: Redactor): void {
  if (frame.context_line) frame.context_line = redactor.text(frame.context_line);
  if (frame.pre_context) frame.pre_context = frame.pre_context.map((line) => redactor.text(line));
  if (frame.post_context) frame.post_context = frame.post_context.map((line) => redactor.text(line));
  if (frame.vars) frame.vars = redactor.value(frame.vars) as Record<string, unknown>;
}

export function scrubBreadcrumb(breadcrumb: Breadcrumb, redactor: Redactor): Breadcrumb {
  return {
    ...breadcrumb,
    ...(breadcrumb.message ? { message: redactor.text(breadcrumb.message) } : {}),
    ...(breadcrumb.data ? { data: redactor.value(breadcrumb.data) as Record<string, unknown> } : {}),
  };
}
