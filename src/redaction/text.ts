/**
 * Secrets in free text: messages, log lines, exception values, stack source lines, SQL
 * comments. Every pass is a single left-to-right scan with bounded look-around, so the cost
 * is linear in the length whatever the input: no regular expression here can backtrack over
 * unbounded input (a crafted `a.a.a.a...` once took seconds).
 */
import { redactSecretPath } from './urls';

export const REDACTED = '[REDACTED]';

export type IsSecretKey = (key: string) => boolean;

const isKeyChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 46 || c === 45;
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
const isSchemeChar = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 43 || c === 46 || c === 45;

/** A set of ASCII characters as a lookup table: a Set lookup per character would cost more than the scan. */
function charTable(chars: string): { has(c: number): boolean } {
  const table = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return { has: (c) => c < 128 && table[c] === 1 };
}

/** Where a URL in prose ends. */
const URL_STOP = charTable(' \t\r\n"\'`<>()[]{}|\\^');
const MAX_URL = 4096;

/**
 * `scheme://user:password@host`: userinfo goes, also when a careless password holds `/` or `@`
 * (`postgres://app:pa/ss@db`), which a URL parser would read as a port and a path.
 */
function urlCredentials(text: string): string {
  let out = '';
  let last = 0;
  for (let i = text.indexOf('://'); i !== -1; ) {
    const start = i + 3;
    let end = start;
    // A URL ends at a delimiter or where the next `://` begins (`?next=https://u:p@h` is a URL of its own).
    while (end < text.length && end - start < MAX_URL && !URL_STOP.has(text.charCodeAt(end))) {
      if (text.charCodeAt(end) === 58 && text.startsWith('//', end + 1)) {
        // Give the next URL its scheme back.
        while (end > start && isSchemeChar(text.charCodeAt(end - 1))) end--;
        break;
      }
      end++;
    }
    const rest = text.slice(start, end);
    const userinfoEnd = userinfoLength(rest);
    let host = 0;
    let replaced: string | undefined;
    if (userinfoEnd > 0) {
      const info = rest.slice(0, userinfoEnd);
      const colon = info.indexOf(':');
      const masked = colon === -1 ? 'REDACTED' : `${colon === 0 ? '' : 'REDACTED'}:REDACTED`;
      host = userinfoEnd + 1;
      replaced = masked + rest.slice(userinfoEnd);
    }
    const slash = firstOf(rest, host, '/?#');
    if (slash !== -1 && rest.charCodeAt(slash) === 47) {
      const path = rest.slice(slash);
      const q = firstOf(path, 0, '?#');
      const pathOnly = q === -1 ? path : path.slice(0, q);
      const shaped = redactSecretPath(rest.slice(host, slash).replace(/:\d{1,5}$/, ''), pathOnly);
      if (shaped !== pathOnly) replaced = (replaced ?? rest).slice(0, (replaced ?? rest).length - path.length) + shaped + (q === -1 ? '' : path.slice(q));
    }
    if (replaced !== undefined) {
      out += text.slice(last, start) + replaced;
      last = end;
    }
    i = text.indexOf('://', Math.max(end, start));
  }
  return last === 0 ? text : out + text.slice(last);
}

function firstOf(s: string, from: number, chars: string): number {
  for (let i = from; i < s.length; i++) if (chars.includes(s[i]!)) return i;
  return -1;
}

/** Length of the userinfo at the start of `rest` (after `scheme://`), 0 when there is none. */
function userinfoLength(rest: string): number {
  const at = rest.lastIndexOf('@');
  if (at <= 0) return 0;
  const stop = firstOf(rest, 0, '/?#');
  const firstAt = rest.indexOf('@');
  const colon = rest.indexOf(':');
  if (colon !== -1 && (stop === -1 || colon < stop) && colon < at) {
    // `host:8080/a@b` is a port and a path; `user:pa/ss@host` a password with a slash.
    const afterColon = rest.slice(colon + 1, stop === -1 ? at : Math.min(stop, at));
    const port = stop !== -1 && stop < firstAt && /^\d{1,5}$/.test(afterColon);
    if (!port) return at;
  }
  return stop === -1 || firstAt < stop ? firstAt : 0;
}

/** Auth schemes whose next word is the credential (`Authorization: Token abc`). */
const AUTH_SCHEMES = new Set(['bearer', 'basic', 'token', 'digest', 'negotiate', 'apikey', 'api-key', 'key', 'sso-key', 'otp']);

/**
 * `password=x`, `token: x`, `"apiKey":"x"`, `\"secret\":\"x\"`: the value after a secret key.
 * A pair whose key is not secret is stepped over by its key only, so its value is still read
 * as a key (`failed: password=x`).
 */
function pairs(text: string, isSecretKey: IsSecretKey): string {
  let out = '';
  let last = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (!isKeyChar(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const keyStart = i;
    while (i < n && isKeyChar(text.charCodeAt(i))) i++;
    const keyEnd = i;
    if (keyEnd - keyStart < 2 || keyEnd - keyStart > 64) continue;
    // The key's closing quote, maybe escaped (JSON inside a JSON string), then `:` or `=`.
    let j = keyEnd;
    const open = text.charCodeAt(keyStart - 1);
    const quoted = open === 34 || open === 39;
    if (quoted) {
      if (text.charCodeAt(j) === 92) j++;
      if (text.charCodeAt(j) !== open) continue;
      j++;
    }
    for (let s = 0; s < 8 && isSpace(text.charCodeAt(j)); s++) j++;
    const sep = text.charCodeAt(j);
    if (sep !== 58 && sep !== 61) continue;
    j++;
    for (let s = 0; s < 8 && isSpace(text.charCodeAt(j)); s++) j++;
    if (!isSecretKey(text.slice(keyStart, keyEnd))) continue;
    let escapedQuote = false;
    if (text.charCodeAt(j) === 92 && (text.charCodeAt(j + 1) === 34 || text.charCodeAt(j + 1) === 39)) {
      escapedQuote = true;
      j++;
    }
    const q = text.charCodeAt(j);
    const valueQuote = q === 34 || q === 39 ? q : 0;
    const start = valueQuote ? j + 1 : j;
    let end = start;
    if (valueQuote) {
      // Inside quotes a backslash escapes the next character (JSON): `"a\"b"` is one value,
      // unless the quotes are themselves escaped (`\"v\"`), where `\"` closes.
      while (end < n) {
        const c = text.charCodeAt(end);
        if (c === 92) {
          if (escapedQuote && text.charCodeAt(end + 1) === valueQuote) break;
          end += 2;
          continue;
        }
        if (c === valueQuote) break;
        end++;
      }
    } else {
      end = valueEnd(text, start);
      // `Authorization: Token abc`: the scheme alone is not the secret.
      if (AUTH_SCHEMES.has(text.slice(start, end).toLowerCase())) {
        let k = end;
        for (let s = 0; s < 8 && (text.charCodeAt(k) === 32 || text.charCodeAt(k) === 9); s++) k++;
        if (k > end && k < n) end = Math.max(end, valueEnd(text, k));
      }
    }
    end = Math.min(end, n);
    if (end === start) {
      i = Math.max(i, j);
      continue;
    }
    out += text.slice(last, start) + REDACTED;
    last = i = end;
  }
  return last === 0 ? text : out + text.slice(last);
}

const VALUE_STOP = charTable(' \t\r\n"\'&,;}');
function valueEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && !VALUE_STOP.has(text.charCodeAt(end))) end++;
  return end;
}

/** Well-known token formats, recognised wherever they appear: prefix and the shortest real length. */
const TOKEN_SHAPES: ReadonlyArray<readonly [prefix: string, minLength: number]> = [
  ['sk-', 20], // OpenAI, Anthropic (sk-ant-), DeepSeek...
  ['sk_live_', 16],
  ['sk_test_', 16],
  ['rk_live_', 16],
  ['rk_test_', 16],
  ['whsec_', 16],
  ['ghp_', 20],
  ['gho_', 20],
  ['ghu_', 20],
  ['ghs_', 20],
  ['ghr_', 20],
  ['github_pat_', 20],
  ['glpat-', 20],
  ['xoxb-', 15],
  ['xoxp-', 15],
  ['xoxa-', 15],
  ['xoxs-', 15],
  ['xapp-', 15],
  ['AKIA', 20],
  ['ASIA', 20],
  ['AIza', 30],
  ['npm_', 30],
  ['sntrys_', 20],
  ['sntryu_', 20],
  ['hf_', 30],
  ['SG.', 30],
  ['pypi-', 30],
  ['dop_v1_', 30],
  ['shpat_', 20],
];

const TOKEN_FIRST = charTable(TOKEN_SHAPES.map(([prefix]) => prefix[0]).join('') + 'e');

function isTokenShape(word: string): boolean {
  if (word.length < 15 || !TOKEN_FIRST.has(word.charCodeAt(0))) return false;
  // A JSON Web Token: three base64url parts, the first a JSON object (`{"` → `eyJ`).
  if (word.startsWith('eyJ') && word.length >= 30) {
    const dot = word.indexOf('.');
    return dot !== -1 && word.indexOf('.', dot + 1) !== -1;
  }
  for (const [prefix, min] of TOKEN_SHAPES) if (word.length >= min && word.startsWith(prefix)) return true;
  return false;
}

/** Words after which, in prose, the next word is the secret: "token abc123", "my password is hunter2". */
const SECRET_WORDS = new Set([
  'password',
  'passwd',
  'pwd',
  'passphrase',
  'passcode',
  'pin',
  'secret',
  'token',
  'apikey',
  'api_key',
  'api-key',
  'credential',
  'credentials',
  'bearer',
  'basic',
  'otp',
  'cookie',
  'session',
  'sessionid',
  'signature',
]);
/** After these the next word is the credential whatever it looks like: nobody writes "bearer" in a sentence. */
const LENIENT_WORDS = new Set(['bearer']);
/** "api key", "access key", "secret key", "private key": the second word arms as the first does. */
const KEY_QUALIFIERS = new Set(['api', 'access', 'secret', 'private', 'license', 'signing', 'master']);
/** Between the keyword and the secret: "password is x", "token = x", "password changed to x". */
const CONNECTORS = new Set(['is', 'was', 'are', '=', ':', 'to', 'equals', '->', '=>', 'of']);
/** What follows a secret keyword in ordinary messages, and is not a secret. */
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'not', 'no', 'too', 'very', 'now', 'still', 'also', 'already', 'being', 'been', 'be',
  'invalid', 'incorrect', 'wrong', 'missing', 'required', 'expired', 'empty', 'blank', 'null', 'undefined', 'none',
  'set', 'unset', 'changed', 'reset', 'valid', 'weak', 'strong', 'short', 'long', 'ok', 'correct', 'needed',
  'mandatory', 'present', 'absent', 'provided', 'hidden', 'redacted', 'revoked', 'rotated', 'updated', 'accepted',
  'rejected', 'denied', 'malformed', 'unknown', 'mismatch', 'true', 'false', 'length', 'format', 'field', 'value',
  'for', 'and', 'or', 'in', 'on', 'at', 'by', 'with', 'from', 'this', 'that', 'it', 'its', 'your', 'my', 'our',
  'their', 'his', 'her', 'has', 'have', 'had', 'must', 'should', 'will', 'can', 'cannot', 'could', 'may',
]);

const WORD_STOP = charTable(' \t\r\n"\'`,;()[]{}<>');
const TRAILING = '.,:;!?';

/** A word that looks like a credential rather than a word of a sentence. */
function looksSecret(word: string): boolean {
  if (word.length >= 20) return true;
  if (word.length < 6) return false;
  let digit = false;
  let letter = false;
  let upperAfterFirst = false;
  let lower = false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 48 && c <= 57) digit = true;
    else if (c >= 97 && c <= 122) (letter = true), (lower = true);
    else if (c >= 65 && c <= 90) (letter = true), (upperAfterFirst ||= i > 0);
  }
  return (digit && letter) || (upperAfterFirst && lower);
}

/**
 * Prose: the word after a secret keyword ("failed for token X", "my password is X",
 * "Authorization: Token X"), well-known token formats anywhere.
 */
function phrases(text: string): string {
  let out = '';
  let last = 0;
  // 0: nothing pending; 1: after a keyword (the next word must look like a secret);
  // 2: after a keyword and a connector (anything but a stop word is the secret).
  let armed = 0;
  let previous = '';
  const n = text.length;
  let i = 0;
  while (i < n) {
    if (WORD_STOP.has(text.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && !WORD_STOP.has(text.charCodeAt(i))) i++;
    let end = i;
    while (end > start && TRAILING.includes(text[end - 1]!)) end--;
    if (end === start) {
      // Punctuation alone (`:`, `=`) connects.
      if (armed === 1 && CONNECTORS.has(text.slice(start, i))) armed = 2;
      continue;
    }
    const word = text.slice(start, end);
    // Keywords, connectors and stop words are short: longer words need no lower-casing.
    const lower = word.length <= 12 ? word.toLowerCase() : '';
    let redact = isTokenShape(word);
    if (!redact && armed === 1 && CONNECTORS.has(lower)) {
      armed = 2;
      previous = lower;
      continue;
    }
    if (!redact && armed === 1) redact = looksSecret(word);
    else if (!redact && armed === 2) redact = lower !== 'redacted' && !STOP_WORDS.has(lower) && word.length >= 3 && !(word.startsWith('[') && word.endsWith(']'));
    const keyword = SECRET_WORDS.has(lower) || (lower === 'key' && KEY_QUALIFIERS.has(previous));
    armed = keyword && !redact ? ((end < i && text[end] === ':') || LENIENT_WORDS.has(lower) ? 2 : 1) : 0;
    previous = lower;
    if (redact) {
      out += text.slice(last, start) + REDACTED;
      last = end;
    }
  }
  return last === 0 ? text : out + text.slice(last);
}

/** 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check. */
function cards(text: string): string {
  let out = '';
  let last = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) continue;
    const prev = text.charCodeAt(i - 1);
    if (isKeyChar(prev) && prev !== 45) {
      while (i < n && isKeyChar(text.charCodeAt(i))) i++;
      continue;
    }
    let digits = '';
    let j = i;
    let end = i;
    while (j < n && digits.length < 19) {
      const d = text.charCodeAt(j);
      if (d >= 48 && d <= 57) {
        digits += text[j];
        end = ++j;
      } else if ((d === 32 || d === 45) && isDigitAt(text, j + 1)) j++;
      else break;
    }
    const next = text.charCodeAt(end);
    const bounded = !(isKeyChar(next) && next !== 45 && next !== 46);
    if (bounded && digits.length >= 13 && luhn(digits)) {
      out += text.slice(last, i) + REDACTED;
      last = end;
    }
    i = Math.max(i, end - 1);
  }
  return last === 0 ? text : out + text.slice(last);
}

function hasDigits(s: string, count: number): boolean {
  let seen = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57 && ++seen >= count) return true;
  }
  return false;
}

function isDigitAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

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

/** `-----BEGIN ... PRIVATE KEY-----` blocks, whole. */
function privateKeys(text: string): string {
  let out = '';
  let last = 0;
  for (let i = text.indexOf('-----BEGIN'); i !== -1; i = text.indexOf('-----BEGIN', i + 10)) {
    const header = text.indexOf('-----', i + 10);
    if (header === -1 || header - i > 64 || !text.slice(i, header).includes('PRIVATE KEY')) continue;
    const close = text.indexOf('-----END', header + 5);
    const tail = close === -1 ? -1 : text.indexOf('-----', close + 8);
    const end = tail === -1 ? text.length : tail + 5;
    out += text.slice(last, i) + REDACTED;
    last = i = end;
    if (end >= text.length) break;
  }
  return last === 0 ? text : out + text.slice(last);
}

export interface TextOptions {
  /** Natural-language and token-format passes; off for a sink whose user asked for raw messages. */
  readonly prose: boolean;
}

/** Every pass, in an order where each one's output is safe input for the next. */
export function redactText(text: string, isSecretKey: IsSecretKey, options: TextOptions): string {
  let out = text.includes('://') ? urlCredentials(text) : text;
  if (out.includes('PRIVATE KEY')) out = privateKeys(out);
  if (out.includes('=') || out.includes(':')) out = pairs(out, isSecretKey);
  if (options.prose) out = phrases(out);
  return hasDigits(out, 13) ? cards(out) : out;
}
