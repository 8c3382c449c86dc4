/**
 * What counts as secret. Every sink that can carry user data (the start line, spans,
 * log records, health JSON, Sentry events and breadcrumbs) asks this module, so one
 * policy covers them all. `INNATURAL_REDACT_KEYS` adds patterns; nothing removes these.
 */
export const REDACTED = '[REDACTED]';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token']);

/** Matched against a whole key name, case-insensitively, ignoring `-` and `_` differences. */
const BUILT_IN_KEY_PATTERNS: readonly RegExp[] = [
  /passw(or)?d/i,
  /(^|[^a-z])pwd([^a-z]|$)/i,
  /secret/i,
  // Not "tokens": gen_ai.usage.input_tokens and max_tokens are counts, not credentials.
  /token(?!s)/i,
  /api[-_]?key/i,
  /private[-_]?key/i,
  /session/i,
  /credential/i,
  /^auth(orization)?$/i,
  /signature/i,
  /credit[-_]?card|card[-_]?number|^cc[-_]?num/i,
  /^cookie$/i,
];

/** 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check. */
const CARD_CANDIDATE = /\b(?:\d[ -]?){12,18}\d\b/g;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const MAX_DEPTH = 8;

export class Redactor {
  private readonly patterns: readonly RegExp[];

  constructor(extraKeys: readonly string[] = []) {
    const escaped = extraKeys.filter((k) => k.trim() !== '').map((k) => new RegExp(k.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i'));
    this.patterns = [...BUILT_IN_KEY_PATTERNS, ...escaped];
  }

  isSecretKey(key: string): boolean {
    return SECRET_HEADERS.has(key.toLowerCase()) || this.patterns.some((re) => re.test(key));
  }

  /**
   * As isSecretKey, also for dotted attribute names: `http.request.header.cookie` is secret by
   * its last part. Memoized: attribute names are few and repeat on every span, and a dozen
   * regular expressions per attribute per span would cost more than the span.
   */
  isSecretAttribute(key: string): boolean {
    let secret = this.attributeCache.get(key);
    if (secret === undefined) {
      const dot = key.lastIndexOf('.');
      secret = this.isSecretKey(key) || (dot !== -1 && this.isSecretKey(key.slice(dot + 1)));
      // Bounded: attribute names come from code, but a hostile app could mint them.
      if (this.attributeCache.size < 4096) this.attributeCache.set(key, secret);
    }
    return secret;
  }

  private readonly attributeCache = new Map<string, boolean>();

  /**
   * Removes userinfo (a DSN's key is its username, a database URL's password its password)
   * and the values of secret-looking query keys. Unparseable input is redacted whole:
   * we cannot tell which part is the secret.
   */
  url(value: string): string {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return REDACTED;
    }
    // `user:pw@host` without a scheme parses as scheme "user:" and an opaque path holding the password.
    if (url.host === '' && url.protocol !== 'file:') return REDACTED;
    if (url.username) url.username = 'REDACTED';
    if (url.password) url.password = 'REDACTED';
    if (url.search) url.search = this.query(url.search.slice(1));
    return url.toString();
  }

  /** A path with an optional query (`/login?token=x`), as servers see `req.url`. */
  target(value: string): string {
    const q = value.indexOf('?');
    return q === -1 ? value : `${value.slice(0, q)}?${this.query(value.slice(q + 1))}`;
  }

  /** `a=1&token=x` → `a=1&token=[REDACTED]`; values are also scanned as free text. */
  query(qs: string): string {
    if (qs === '') return qs;
    return qs
      .split('&')
      .map((pair) => {
        const eq = pair.indexOf('=');
        if (eq === -1) return pair;
        let key: string;
        try {
          key = decodeURIComponent(pair.slice(0, eq).replace(/\+/g, ' '));
        } catch {
          key = pair.slice(0, eq);
        }
        return this.isSecretKey(key) ? `${pair.slice(0, eq)}=${encodeURIComponent(REDACTED)}` : `${pair.slice(0, eq)}=${this.text(pair.slice(eq + 1))}`;
      })
      .join('&');
  }

  headers(headers: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(headers)) out[key] = this.isSecretKey(key) ? REDACTED : this.value(value);
    return out;
  }

  /**
   * Free text (messages, log lines, SQL): credentials in URLs, `key=value` / `"key": "value"`
   * pairs with secret keys, bearer tokens and card numbers.
   */
  text(value: string): string {
    if (value.length === 0) return value;
    let out = value.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]*)(?::([^\s/@]*))?@/gi, (m, scheme: string, user: string, pass?: string) => {
      if (user === '' && !pass) return m;
      return pass === undefined ? `${scheme}REDACTED@` : `${scheme}${user === '' ? '' : 'REDACTED'}:REDACTED@`;
    });
    out = out.replace(/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}/gi, `$1 ${REDACTED}`);
    out = this.pairs(out);
    out = out.replace(CARD_CANDIDATE, (m) => (luhn(m.replace(/[ -]/g, '')) ? REDACTED : m));
    return out;
  }

  /**
   * `password=x`, `token: x`, `"apiKey":"x"`: the value after a secret key. A pair whose
   * key is not secret is stepped over by its key only, so its value is still read as a
   * key (`failed: password=x`).
   */
  private pairs(text: string): string {
    const KEY = /(["']?)([A-Za-z0-9_.-]{2,64})\1(\s*[:=]\s*)(["']?)/g;
    let out = '';
    let last = 0;
    for (let m = KEY.exec(text); m !== null; m = KEY.exec(text)) {
      const key = m[2]!;
      if (!this.isSecretKey(key)) {
        KEY.lastIndex = m.index + m[1]!.length + key.length;
        continue;
      }
      const quote = m[4]!;
      const start = m.index + m[0].length;
      let end = start;
      const stop = quote !== '' ? quote : ' \t\r\n"\'&,;}';
      // Inside quotes a backslash escapes the next character (JSON): `"a\"b"` is one value.
      while (end < text.length && !stop.includes(text[end]!)) end += quote !== '' && text[end] === '\\' ? 2 : 1;
      end = Math.min(end, text.length);
      if (end === start) continue;
      out += text.slice(last, start) + REDACTED;
      last = end;
      KEY.lastIndex = end;
    }
    return last === 0 ? text : out + text.slice(last);
  }

  /** SQL sent without parameters: every string literal can hold user data. */
  sql(text: string): string {
    return this.text(text.replace(/'(?:[^']|'')*'/g, "'?'"));
  }

  /** Deep copy of a structured value with secret keys replaced and strings scanned as text. */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth >= MAX_DEPTH) return '[Truncated]';
    if (Array.isArray(value)) return value.map((v) => this.value(v, depth + 1));
    if (value instanceof Error) return this.text(`${value.name}: ${value.message}`);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) out[key] = this.isSecretKey(key) ? REDACTED : this.value(v, depth + 1);
    return out;
  }
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
