/**
 * What counts as secret. Every sink that can carry user data (the start line, spans, log
 * records, health JSON, Sentry events and breadcrumbs, error lines, doctor) asks this module,
 * so one policy covers them all. `INNATURAL_REDACT_KEYS` and `INNATURAL_REDACT_PATTERNS` add to
 * it; nothing removes the built-in rules.
 *
 * Every method is linear in its input and scans at most MAX_SCAN characters of a string: past
 * that the value is cut and says so, so no request can make redaction stall the app.
 */
import { KeyPolicy } from './keys';
import { sanitizeRedis, sanitizeSql } from './statements';
import { REDACTED, redactText } from './text';
import { redactSecretPath } from './urls';

export { REDACTED } from './text';

/** Characters of one string value that are scanned; the rest is cut off, never sent unscanned. */
export const MAX_SCAN = 32 * 1024;

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

const MAX_DEPTH = 8;
/** `a=1&b=2`: a string body that is a form, whose keys follow the query rules. */
const FORM = /^[^\s=&]{1,64}=/;

export interface RedactorOptions {
  /** Extra free-text patterns (INNATURAL_REDACT_PATTERNS): each match is replaced. */
  readonly patterns?: readonly RegExp[];
  /**
   * The prose passes (the word after "token" or "password is", token formats such as `sk-...`):
   * off for a sink whose user asked for raw messages. Keys, URL credentials, `key=value`
   * pairs and card numbers are redacted whatever this says.
   */
  readonly prose?: boolean;
}

/**
 * Characters of one string field of a request body: an error report needs the shape of what
 * was sent, not 100 KB of it (Sentry itself keeps about 10 KB of a body).
 */
export const MAX_BODY_FIELD = 4 * 1024;

/** Cuts a value past `max`, saying how much went. */
export function capped(value: string, max = MAX_SCAN): string {
  return value.length <= max ? value : `${value.slice(0, max)}...[TRUNCATED ${value.length - max} chars]`;
}

export class Redactor {
  private readonly keys: KeyPolicy;
  private readonly patterns: readonly RegExp[];
  private readonly prose: boolean;
  private readonly isKey = (key: string) => this.isSecretKey(key);
  private readonly attributeCache = new Map<string, boolean>();

  constructor(extraKeys: readonly string[] = [], options: RedactorOptions = {}) {
    this.keys = new KeyPolicy(extraKeys);
    this.patterns = (options.patterns ?? []).map((re) => (re.global ? re : new RegExp(re.source, `${re.flags}g`)));
    this.prose = options.prose ?? true;
  }

  /** Memoized: keys repeat (header names, JSON fields), and a hostile request mints at most the cap. */
  isSecretKey(key: string): boolean {
    let secret = this.keyCache.get(key);
    if (secret === undefined) {
      secret = SECRET_HEADERS.has(key.toLowerCase()) || this.keys.isSecret(key);
      if (key.length <= 64) {
        if (this.keyCache.size >= 4096) this.keyCache.clear();
        this.keyCache.set(key, secret);
      }
    }
    return secret;
  }

  private readonly keyCache = new Map<string, boolean>();

  /** Keys that are secret in a URL's query or a form body only (`code`, `ticket`), besides the others. */
  isSecretQueryKey(key: string): boolean {
    return SECRET_HEADERS.has(key.toLowerCase()) || this.keys.isSecretQueryKey(key);
  }

  /**
   * As isSecretKey, also for dotted attribute names: `http.request.header.cookie` is secret by
   * its last part. Memoized: attribute names are few and repeat on every span.
   */
  isSecretAttribute(key: string): boolean {
    let secret = this.attributeCache.get(key);
    if (secret === undefined) {
      const dot = key.lastIndexOf('.');
      const last = dot === -1 ? key : key.slice(dot + 1);
      secret = SECRET_HEADERS.has(last.toLowerCase()) || this.keys.isSecret(key, false) || (dot !== -1 && this.keys.isSecret(last, false));
      // Bounded: attribute names come from code, but a hostile app could mint them.
      if (this.attributeCache.size < 4096) this.attributeCache.set(key, secret);
    }
    return secret;
  }

  /**
   * Removes userinfo (a DSN's key is its username, a database URL's password its password),
   * the values of secret-looking query keys and the secret part of webhook URLs. Unparseable
   * input is redacted whole: we cannot tell which part is the secret.
   */
  url(value: string): string {
    let url: URL;
    try {
      // Userinfo first on the raw text: `user:pa/ss@host` parses as a port and a path.
      url = new URL(this.text(value));
    } catch {
      return REDACTED;
    }
    // `user:pw@host` without a scheme parses as scheme "user:" and an opaque path holding the password.
    if (url.host === '' && url.protocol !== 'file:') return REDACTED;
    if (url.username) url.username = 'REDACTED';
    if (url.password) url.password = 'REDACTED';
    const path = redactSecretPath(url.hostname, url.pathname);
    if (path !== url.pathname) url.pathname = path;
    if (url.search) url.search = this.query(url.search.slice(1));
    return url.toString();
  }

  /** A path with an optional query (`/login?token=x`), as servers see `req.url`. */
  target(value: string): string {
    const v = capped(value);
    const q = v.indexOf('?');
    return q === -1 ? v : `${v.slice(0, q)}?${this.query(v.slice(q + 1))}`;
  }

  /** `a=1&token=x` → `a=1&token=[REDACTED]`; values, and keys without one, are also scanned as free text. */
  query(qs: string, marker = encodeURIComponent(REDACTED)): string {
    if (qs === '') return qs;
    return capped(qs)
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        const rawKey = eq === -1 ? pair : pair.slice(0, eq);
        let key: string;
        try {
          key = decodeURIComponent(rawKey.replace(/\+/g, ' '));
        } catch {
          key = rawKey;
        }
        if (eq === -1) return this.scan(pair);
        return this.isSecretQueryKey(key) ? `${rawKey}=${marker}` : `${rawKey}=${this.scan(pair.slice(eq + 1))}`;
      })
      .join('&');
  }

  headers(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(headers)) out[key] = this.isSecretKey(key) ? REDACTED : this.value(value);
    return out;
  }

  /**
   * Free text (messages, log lines, exception values, source lines): credentials in URLs,
   * `key=value` / `"key": "value"` pairs with secret keys, auth schemes and the word after a
   * secret keyword, well-known token formats, private key blocks and card numbers.
   */
  text(value: string): string {
    // Nothing shorter can hold a key and a value worth hiding.
    if (value.length < 6) return value;
    return this.scan(capped(value));
  }

  /**
   * text() for span attributes: the same user agent, host and client address come back on
   * every request, so short values are remembered (a bounded map, cleared when full).
   */
  attributeText(value: string): string {
    if (value.length < 6) return value;
    if (value.length > 256) return this.text(value);
    let out = this.valueCache.get(value);
    if (out === undefined) {
      out = this.scan(value);
      if (this.valueCache.size >= 2048) this.valueCache.clear();
      this.valueCache.set(value, out);
    }
    return out;
  }

  private readonly valueCache = new Map<string, string>();

  private scan(value: string): string {
    if (value.length < 6) return value;
    let out = redactText(value, this.isKey, { prose: this.prose });
    for (const re of this.patterns) out = out.replace(re, REDACTED);
    return out;
  }

  /** SQL sent without parameters: every literal can hold user data. */
  sql(text: string): string {
    return this.text(sanitizeSql(capped(text)));
  }

  /** A Redis command line: the command and its key stay, values, scripts and their arguments go. */
  redis(text: string): string {
    return this.text(sanitizeRedis(capped(text)));
  }

  /** Deep copy of a structured value with secret keys replaced and strings scanned as text. */
  value(value: unknown, depth = 0): unknown {
    return this.walk(value, depth, this.isKey);
  }

  /**
   * A request body: form and JSON keys follow the query-string rules (`code`, `ticket` are
   * secret there), and each string field is cut at MAX_BODY_FIELD.
   */
  body(value: unknown): unknown {
    if (typeof value === 'string') {
      const v = capped(value, MAX_SCAN);
      return FORM.test(v.slice(0, 256)) && !/\s/.test(v) ? this.query(v, REDACTED) : this.text(v);
    }
    return this.walk(value, 0, (key) => this.isSecretQueryKey(key), MAX_BODY_FIELD);
  }

  private walk(value: unknown, depth: number, isSecret: (key: string) => boolean, maxString = MAX_SCAN): unknown {
    if (typeof value === 'string') return this.text(capped(value, maxString));
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return '[Truncated]';
    if (Array.isArray(value)) return value.map((v) => this.walk(v, depth + 1, isSecret, maxString));
    if (value instanceof Error) return this.text(`${value.name}: ${value.message}`);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = isSecret(key) ? REDACTED : this.walk(v, depth + 1, isSecret, maxString);
    return out;
  }
}

/** Where redacted data goes; INNATURAL_REDACT_RAW_TEXT names them. `errors` is Sentry and the error lines. */
export const REDACTION_SINKS = ['spans', 'logs', 'errors', 'health'] as const;
export type RedactionSink = (typeof REDACTION_SINKS)[number];

export interface RedactionSettings {
  readonly keys: readonly string[];
  readonly patterns: readonly RegExp[];
  /** Sinks whose messages skip the prose passes. */
  readonly rawText: readonly RedactionSink[];
}

/** The policy one sink applies. */
export function sinkRedactor(settings: RedactionSettings, sink: RedactionSink): Redactor {
  return new Redactor(settings.keys, { patterns: settings.patterns, prose: !settings.rawText.includes(sink) });
}

/** The built-in policy, for places that run before configuration is read. */
export const DEFAULT_REDACTOR = new Redactor();

export function isSecretKey(key: string): boolean {
  return DEFAULT_REDACTOR.isSecretKey(key);
}

export function redactUrl(value: string): string {
  return DEFAULT_REDACTOR.url(value);
}

/** Header names stay (they help debugging), every value goes: all OTLP headers are credentials in practice. */
export function redactHeaderValues(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) out[key] = REDACTED;
  return out;
}
