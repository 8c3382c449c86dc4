/**
 * Which key names hold secrets: header names, query and form keys, JSON keys, attribute
 * names. Secret-shaped names, not a short list: `x-access-key`, `authentication`,
 * `passphrase` and `cvv` are as secret as `authorization` and `password`.
 */

/** Matched anywhere in the key once case and separators are gone (`Client-Secret` → `clientsecret`). */
const FRAGMENTS: readonly string[] = [
  'passw',
  'passphrase',
  'passcode',
  'secret',
  'credential',
  'signature',
  'session',
  'sessid',
  'cookie',
  'apikey',
  'accesskey',
  'privatekey',
  'signingkey',
  'masterkey',
  'licensekey',
  'encryptionkey',
  'bearer',
  'jwt',
  'connectionstring',
  'creditcard',
  'cardnumber',
  'ccnum',
];

/** Matched as a whole word of the key, split at separators and camelCase (`x-access-key`, `userPin`). */
const WORDS: ReadonlySet<string> = new Set(['key', 'keys', 'pwd', 'pw', 'pass', 'pin', 'cvv', 'cvv2', 'cvc', 'csc', 'otp', 'totp', 'ssn', 'sig', 'dsn', 'auth', 'sid']);

/**
 * Secret only as a query or form key: `code` is an OAuth authorisation code in a callback URL,
 * but `{"code": "ECONNREFUSED"}` in an error is what debugging needs.
 */
const QUERY_WORDS: ReadonlySet<string> = new Set(['code', 'ticket', 'sas']);

/** Keys longer than this are not names a program chose: treated as secret, never scanned. */
const MAX_KEY = 256;

function normalize(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]+/g, '');
}

/** `X-Access-Key` → x access key; `userPIN` → user pin; `APIKey` → api key. */
export function keyWords(key: string): string[] {
  const words: string[] = [];
  let word = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    const c = key.charCodeAt(i);
    const upper = c >= 65 && c <= 90;
    const alnum = upper || (c >= 97 && c <= 122) || (c >= 48 && c <= 57);
    if (!alnum) {
      if (word) words.push(word);
      word = '';
      continue;
    }
    const prev = key.charCodeAt(i - 1);
    const next = key.charCodeAt(i + 1);
    const prevLower = prev >= 97 && prev <= 122;
    const prevUpper = prev >= 65 && prev <= 90;
    const nextLower = next >= 97 && next <= 122;
    if (word && upper && (prevLower || (prevUpper && nextLower))) {
      words.push(word);
      word = '';
    }
    word += upper ? ch.toLowerCase() : ch;
  }
  if (word) words.push(word);
  return words;
}

/** `token`, `access_token`, `id_token`, but not `tokens` (gen_ai.usage.input_tokens and max_tokens are counts). */
function hasToken(flat: string): boolean {
  for (let i = flat.indexOf('token'); i !== -1; i = flat.indexOf('token', i + 1)) if (flat[i + 5] !== 's') return true;
  return false;
}

/** `auth`, `oauth`, `authorization`, `authentication`, but not `author` or `authority` (an HTTP/2 pseudo-header). */
function hasAuth(flat: string): boolean {
  for (let i = flat.indexOf('auth'); i !== -1; i = flat.indexOf('auth', i + 1)) {
    if (flat.startsWith('or', i + 4) && !flat.startsWith('oriz', i + 4)) continue;
    return true;
  }
  return false;
}

export class KeyPolicy {
  /** Each extra key as written (lower-cased) and without separators, computed once. */
  private readonly extra: ReadonlyArray<{ readonly lower: string; readonly flat: string }>;

  /** `extraKeys` are matched anywhere in the key, case and separators ignored, as the built-in fragments. */
  constructor(extraKeys: readonly string[] = []) {
    this.extra = extraKeys
      .map((k) => k.trim().toLowerCase())
      .filter((k) => k !== '')
      .map((lower) => ({ lower, flat: normalize(lower) || '\u0000' }));
  }

  /**
   * `bareKey`: whether `key` alone is secret. It is as a header, query or body key
   * (`?key=...`, `x-access-key`); as an attribute name it is a cache or message key
   * (`messaging.kafka.message.key`), and `api.key` is caught by its fragment anyway.
   */
  isSecret(key: string, bareKey = true): boolean {
    if (key.length > MAX_KEY) return true;
    const flat = normalize(key);
    if (hasToken(flat) || hasAuth(flat)) return true;
    for (const f of FRAGMENTS) if (flat.includes(f)) return true;
    const lower = key.toLowerCase();
    for (const e of this.extra) if (lower.includes(e.lower) || flat.includes(e.flat)) return true;
    // Splitting into words costs more than the rest: only when a word could be there at all.
    let candidate = false;
    for (const w of WORDS) if (flat.includes(w)) candidate = true;
    if (!candidate) return false;
    for (const w of keyWords(key)) if (WORDS.has(w) && (bareKey || (w !== 'key' && w !== 'keys'))) return true;
    return false;
  }

  /** As isSecret, plus the keys that are secret only in a URL's query or a form body. */
  isSecretQueryKey(key: string): boolean {
    if (this.isSecret(key)) return true;
    const flat = normalize(key);
    if (!flat.includes('code') && !flat.includes('ticket') && !flat.includes('sas')) return false;
    for (const w of keyWords(key)) if (QUERY_WORDS.has(w)) return true;
    return false;
  }
}
