/**
 * Inputs built to make a scanner slow: long runs of what each pass looks for, with the one
 * character that would complete a match missing. Shared by the ReDoS test and the benchmark.
 */
export const ADVERSARIAL: Readonly<Record<string, (length: number) => string>> = {
  'dotted key': (n) => 'a.'.repeat(n / 2),
  'scheme without ://': (n) => 'a'.repeat(n - 3) + ':/x',
  'repeated ://': (n) => '://'.repeat(n / 3),
  'userinfo-like': (n) => 'http://' + 'a:@/'.repeat(n / 4),
  'key colon': (n) => 'a:'.repeat(n / 2),
  'secret keys without values': (n) => 'password='.repeat(n / 9),
  'json keys': (n) => '"a":'.repeat(n / 4),
  'escaped json keys': (n) => '\\"token\\":'.repeat(n / 10),
  digits: (n) => '4'.repeat(n),
  'spaced digits': (n) => '4 '.repeat(n / 2),
  'private key headers': (n) => '-----BEGIN PRIVATE KEY-----'.repeat(n / 27),
  'keywords only': (n) => 'token '.repeat(n / 6),
  'keyword and connector': (n) => 'password is '.repeat(n / 12),
  'whitespace before =': (n) => 'ab' + ' '.repeat(n - 3) + '=',
  'open quote': (n) => 'password="' + '\\'.repeat(n - 10),
  'sql quotes': (n) => "'".repeat(n),
  'sql dollars': (n) => '$a'.repeat(n / 2),
  'query pairs': (n) => 'a=&'.repeat(n / 3),
  'token prefixes': (n) => 'sk-'.repeat(n / 3),
};

/** Random text over an alphabet of the characters the passes react to. */
export function randomText(length: number, seed: number): string {
  const alphabet = 'aA0:=/@?&#"\'\\ .-_$-tokenpasswordBearer sk-eyJ://4 \n';
  let x = seed || 1;
  let out = '';
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += alphabet[(x >>> 0) % alphabet.length];
  }
  return out;
}
