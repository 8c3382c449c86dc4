/**
 * What counts as secret. Every sink that can carry user data (the start line, spans,
 * logs, health JSON, Sentry events) asks this module, so one policy covers them all.
 */
export const REDACTED = '[REDACTED]';

const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-auth-token',
]);

const SECRET_KEY_PATTERNS: readonly RegExp[] = [
  /passw(or)?d/i,
  /\bpwd\b|^pwd|pwd$/i,
  /secret/i,
  /token/i,
  /api[-_]?key/i,
  /private[-_]?key/i,
  /session/i,
  /credential/i,
  /^auth/i,
  /signature/i,
];

export function isSecretKey(key: string): boolean {
  return SECRET_HEADERS.has(key.toLowerCase()) || SECRET_KEY_PATTERNS.some((re) => re.test(key));
}

/**
 * Removes userinfo (a DSN's key is its username, a database URL's password its password)
 * and the values of secret-looking query keys. Unparseable input is redacted whole:
 * we cannot tell which part is the secret.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return REDACTED;
  }
  // `user:pw@host` without a scheme parses as scheme "user:" and an opaque path holding the password.
  if (url.host === '') return REDACTED;
  if (url.username) url.username = 'REDACTED';
  if (url.password) url.password = 'REDACTED';
  for (const key of [...url.searchParams.keys()]) {
    if (isSecretKey(key)) url.searchParams.set(key, REDACTED);
  }
  return url.toString();
}

/** Header names stay (they help debugging), every value goes: all OTLP headers are credentials in practice. */
export function redactHeaderValues(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(headers)) out[key] = REDACTED;
  return out;
}
