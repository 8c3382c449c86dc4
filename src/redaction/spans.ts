import type { Span, SpanProcessor } from '@opentelemetry/sdk-trace';
import { REDACTED, type Redactor } from './policy';

type Attrs = Record<string, unknown>;
type Scan = (redactor: Redactor, value: string) => string;

const url: Scan = (r, v) => r.url(v);
const target: Scan = (r, v) => r.target(v);
const query: Scan = (r, v) => r.query(v.startsWith('?') ? v.slice(1) : v);
const sql: Scan = (r, v) => r.sql(v);
const redis: Scan = (r, v) => r.redis(v);
const text: Scan = (r, v) => r.attributeText(v);

/** Attributes whose value has a known syntax; every other string is scanned as free text. */
const BY_KEY: ReadonlyMap<string, Scan> = new Map([
  ['url.full', url],
  ['http.url', url],
  ['url.original', url],
  ['http.request.url', url],
  ['http.target', target],
  ['url.query', query],
  ['db.query.text', sql],
  ['db.statement', sql],
]);

/** Set by our own instrumentations from fixed vocabularies: nothing a user typed can reach them. */
const FIXED = new Set(['http.request.method', 'url.scheme', 'network.protocol.version', 'network.protocol.name', 'network.transport', 'network.type', 'db.system', 'db.system.name', 'rpc.system', 'messaging.system', 'http.route']);

const REDIS_SYSTEMS = new Set(['redis', 'valkey']);

/**
 * Rewrites a set of attributes in place: every attribute of every span, of any type, whoever
 * set it (`span.setAttribute('note', 'token=...')` in the app as much as the instrumentations'
 * URLs and SQL). Short strings and fixed vocabularies cost a comparison.
 */
export function redactAttributes(attrs: Attrs, redactor: Redactor, set: (key: string, value: unknown) => void): void {
  const system = attrs['db.system.name'] ?? attrs['db.system'];
  const statement = typeof system === 'string' && REDIS_SYSTEMS.has(system) ? redis : sql;
  for (const key of Object.keys(attrs)) {
    const value = attrs[key];
    if (value === undefined || value === null) continue;
    if (redactor.isSecretAttribute(key)) {
      if (value !== REDACTED) set(key, REDACTED);
      continue;
    }
    if (typeof value === 'string') {
      if (value.length < 6 || FIXED.has(key)) continue;
      const scan = BY_KEY.get(key) ?? text;
      const next = (scan === sql ? statement : scan)(redactor, value);
      if (next !== value) set(key, next);
    } else if (Array.isArray(value)) {
      let changed = false;
      const next = value.map((v: unknown) => {
        if (typeof v !== 'string') return v;
        const r = redactor.attributeText(v);
        changed ||= r !== v;
        return r;
      });
      if (changed) set(key, next);
    }
  }
}

/** First in the processor list: redacts while the span can still change, before any exporter sees it. */
export class RedactingSpanProcessor implements SpanProcessor {
  constructor(private readonly redactor: Redactor) {}

  onStart(): void {}

  onEnding(span: Span): void {
    redactAttributes(span.attributes as Attrs, this.redactor, (key, value) => span.setAttribute(key, value as string));
    for (const event of span.events) {
      const attrs = event.attributes as Attrs | undefined;
      if (attrs) redactAttributes(attrs, this.redactor, (key, value) => (attrs[key] = value));
      const name = this.redactor.text(event.name);
      if (name !== event.name) (event as { name: string }).name = name;
    }
    for (const link of span.links) {
      const attrs = link.attributes as Attrs | undefined;
      if (attrs) redactAttributes(attrs, this.redactor, (key, value) => (attrs[key] = value));
    }
    if (span.status.message) span.status.message = this.redactor.text(span.status.message);
    const name = this.redactor.attributeText(span.name);
    if (name !== span.name) span.updateName(name);
  }

  onEnd(): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
