/**
 * Database statements sent without parameters carry user data in their literals. One pass
 * over the text, no regular expression: a crafted statement cannot make this slower than
 * its length.
 */

function isIdentChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `$tag$` at i (PostgreSQL dollar quoting; the tag may be empty); undefined if `$` starts a `$1` parameter or nothing. */
function dollarTag(sql: string, i: number): string | undefined {
  let j = i + 1;
  if (isDigit(sql.charCodeAt(j))) return undefined;
  while (j < sql.length && j - i <= 64) {
    const c = sql.charCodeAt(j);
    if (c === 36) return sql.slice(i, j + 1);
    if (!isIdentChar(c)) return undefined;
    j++;
  }
  return undefined;
}

/**
 * Every literal becomes a placeholder, as the database semantic conventions sanitise
 * `db.query.text`: strings (`'..'`, `E'..'` with backslash escapes, `$$..$$`, `$tag$..$tag$`)
 * as `'?'`, numbers as `?`. Identifiers (`"col"`, `t1`), parameters (`$1`) and comments stay.
 */
export function sanitizeSql(sql: string): string {
  let out = '';
  let last = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql.charCodeAt(i);
    // A quoted identifier is not data: step over it whole, so a quote inside it starts nothing.
    if (c === 34) {
      const end = sql.indexOf('"', i + 1);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? n : end + 2;
      continue;
    }
    if (c === 39) {
      const escapes = i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !isIdentChar(sql.charCodeAt(i - 2));
      const start = escapes ? i - 1 : i;
      let j = i + 1;
      while (j < n) {
        const d = sql.charCodeAt(j);
        if (escapes && d === 92) j += 2;
        else if (d === 39 && sql.charCodeAt(j + 1) === 39) j += 2;
        else if (d === 39) break;
        else j++;
      }
      out += sql.slice(last, start) + "'?'";
      i = last = Math.min(j + 1, n);
      continue;
    }
    if (c === 36) {
      const tag = dollarTag(sql, i);
      if (tag !== undefined) {
        const end = sql.indexOf(tag, i + tag.length);
        out += sql.slice(last, i) + "'?'";
        i = last = end === -1 ? n : end + tag.length;
        continue;
      }
    }
    if (isIdentChar(c)) {
      const numeric = isDigit(c) && !isIdentChar(sql.charCodeAt(i - 1));
      let j = i + 1;
      // A number runs on through its digits, decimal point, exponent and hex letters (`1.5e3`, `0xff`).
      while (j < n && (isIdentChar(sql.charCodeAt(j)) || (numeric && sql.charCodeAt(j) === 46))) j++;
      if (numeric && !(i > 0 && sql.charCodeAt(i - 1) === 36)) {
        out += sql.slice(last, i) + '?';
        last = j;
      }
      i = j;
      continue;
    }
    i++;
  }
  return last === 0 ? sql : out + sql.slice(last);
}

/** Commands whose every argument is a credential or code. */
const REDIS_ALL_SECRET = new Set(['AUTH', 'HELLO', 'MIGRATE', 'EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO', 'SCRIPT', 'FUNCTION']);

/**
 * A Redis command as the instrumentations serialise it (`SET key [1 other arguments]`,
 * `EVAL script 1 key arg`): the command and its first argument (the key, or a subcommand
 * such as `ACL SETUSER`) stay, every value goes. Scripts, their arguments and AUTH are values.
 */
export function sanitizeRedis(statement: string): string {
  const words = statement.trim().split(/\s+/, 3);
  const command = words[0] ?? '';
  const upper = command.toUpperCase();
  if (words.length < 2) return statement;
  if (REDIS_ALL_SECRET.has(upper)) return `${command} ?`;
  return words.length > 2 ? `${command} ${words[1]} ?` : `${command} ${words[1]}`;
}
